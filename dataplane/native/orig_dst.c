/*
 * orig_dst: read the pre-REDIRECT destination of an accepted TCP connection.
 *
 * iptables REDIRECT rewrites the destination of a captured connection to the
 * sidecar's port; conntrack keeps the original tuple, and the kernel hands it
 * out through getsockopt(SO_ORIGINAL_DST) (IPv4) or
 * getsockopt(IP6T_SO_ORIGINAL_DST) (IPv6). Node has no API for either and no
 * maintained npm package does it (see shared/reference/performance.md §4), so
 * this is a few lines of plain C against node_api.h: no node-addon-api, no
 * C++, nothing but libc and the Node headers.
 *
 * N-API cannot reach libuv's uv_tcp_t, so JavaScript passes the file
 * descriptor in (socket._handle.fd, see src/transport/orig-dst.ts).
 *
 * getOriginalDst(fd: number, family: 4 | 6) -> { address: string, port: number }
 * Throws an Error whose `code` is the errno name (ENOENT when the connection
 * was not redirected / has no conntrack entry, ENOPROTOOPT when the
 * conntrack module for that family is absent, EBADF, ENOTSOCK, ...).
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>;
 * defined here because those headers clash with the glibc socket headers. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef SOL_IPV6
#define SOL_IPV6 41
#endif

static const char *errno_name(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EPERM: return "EPERM";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error with code = errno name and message naming the call. */
static void throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s (errno %d)", what, strerror(err), err);
  napi_throw_error(env, errno_name(err), msg);
}

static napi_status set_result(napi_env env, napi_value obj, const char *address, unsigned port) {
  napi_value addr_v, port_v;
  napi_status s = napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &addr_v);
  if (s != napi_ok) return s;
  s = napi_create_uint32(env, port, &port_v);
  if (s != napi_ok) return s;
  s = napi_set_named_property(env, obj, "address", addr_v);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, obj, "port", port_v);
}

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1, family = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &family) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "getOriginalDst(fd: number, family: 4 | 6)");
    return NULL;
  }
  if (fd < 0) {
    napi_throw_range_error(env, "EBADF", "getOriginalDst: the socket has no file descriptor (fd < 0)");
    return NULL;
  }

  char text[INET6_ADDRSTRLEN];
  unsigned port;
  if (family == 4) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &sa, &len) != 0) {
      throw_errno(env, "getsockopt(SOL_IP, SO_ORIGINAL_DST)", errno);
      return NULL;
    }
    if (inet_ntop(AF_INET, &sa.sin_addr, text, sizeof text) == NULL) {
      throw_errno(env, "inet_ntop(AF_INET)", errno);
      return NULL;
    }
    port = ntohs(sa.sin_port);
  } else if (family == 6) {
    struct sockaddr_in6 sa6;
    socklen_t len = sizeof sa6;
    memset(&sa6, 0, sizeof sa6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &sa6, &len) != 0) {
      throw_errno(env, "getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)", errno);
      return NULL;
    }
    if (inet_ntop(AF_INET6, &sa6.sin6_addr, text, sizeof text) == NULL) {
      throw_errno(env, "inet_ntop(AF_INET6)", errno);
      return NULL;
    }
    port = ntohs(sa6.sin6_port);
  } else {
    napi_throw_range_error(env, "ERR_INVALID_ARG_VALUE", "getOriginalDst: family must be 4 or 6");
    return NULL;
  }

  napi_value result;
  if (napi_create_object(env, &result) != napi_ok || set_result(env, result, text, port) != napi_ok) {
    napi_throw_error(env, "ERR_NAPI", "getOriginalDst: could not build the result object");
    return NULL;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "getOriginalDst", NAPI_AUTO_LENGTH, get_original_dst, NULL, &fn) != napi_ok) {
    return NULL;
  }
  if (napi_set_named_property(env, exports, "getOriginalDst", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
