{
  "targets": [
    {
      "target_name": "orig_dst",
      "sources": ["native/orig_dst.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS"]
    }
  ]
}
