// Socket options Node's `net` module cannot set, over a socket's file descriptor (Linux):
// TCP MD5 signatures (RFC 2385), a minimum received TTL / hop limit (GTSM, RFC 5082) and the TTL /
// hop limit of sent packets; plus creating and binding a TCP socket so that the options are in place
// before connect() or listen(). Plain node_api.h (N-API), so one build loads in every Node >= 20.
//
// Errors are thrown as JS Errors carrying `errno` (positive) and `syscall`; the TypeScript wrapper
// (src/index.ts) turns them into messages that name the option and the likely cause.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"

#ifndef TCP_MD5SIG
#define TCP_MD5SIG 14
#endif
#ifndef TCP_MD5SIG_MAXKEYLEN
#define TCP_MD5SIG_MAXKEYLEN 80
#endif
#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

// Local copy of the kernel's struct tcp_md5sig (linux/tcp.h), whose layout is ABI.
struct md5sig {
  struct sockaddr_storage addr;
  unsigned char flags;
  unsigned char prefixlen;
  unsigned short keylen;
  int ifindex;
  unsigned char key[TCP_MD5SIG_MAXKEYLEN];
};

#define CHECK(call)                                            \
  do {                                                         \
    if ((call) != napi_ok) {                                   \
      napi_throw_error(env, NULL, "sockopt: N-API call failed"); \
      return NULL;                                             \
    }                                                          \
  } while (0)

// Throws Error(message) with .errno = err and .syscall = syscall.
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s failed: %s", what, syscall, strerror(err));
  napi_value msg, error, num, sys;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *text) {
  napi_throw_type_error(env, NULL, text);
  return NULL;
}

// Reads argument i as an int32 in [min, max]; returns 0 and throws on failure.
static int int_arg(napi_env env, napi_value *argv, size_t argc, size_t i, int min, int max, const char *name, int *out) {
  napi_valuetype type;
  char text[128];
  if (i >= argc || napi_typeof(env, argv[i], &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, argv[i], out) != napi_ok || *out < min || *out > max) {
    snprintf(text, sizeof text, "sockopt: %s must be an integer %d-%d", name, min, max);
    napi_throw_range_error(env, NULL, text);
    return 0;
  }
  return 1;
}

// Reads argument i as a string into buf (at most size - 1 bytes); returns 0 and throws on failure.
static int string_arg(napi_env env, napi_value *argv, size_t argc, size_t i, char *buf, size_t size, const char *name) {
  napi_valuetype type;
  size_t len;
  char text[128];
  if (i >= argc || napi_typeof(env, argv[i], &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, argv[i], buf, size, &len) != napi_ok || len >= size - 1) {
    snprintf(text, sizeof text, "sockopt: %s must be a string", name);
    throw_type(env, text);
    return 0;
  }
  return 1;
}

// The socket's address family (AF_INET or AF_INET6), or -1 with errno set.
static int socket_family(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return -1;
  if (domain != AF_INET && domain != AF_INET6) {
    errno = EAFNOSUPPORT;
    return -1;
  }
  return domain;
}

// Parses text as an address for a socket of `family` into ss. An IPv4 address for an IPv6 socket
// becomes the IPv4-mapped form ::ffff:a.b.c.d (what a dual-stack socket sees). Returns 0 if invalid.
static int parse_address(int family, const char *text, struct sockaddr_storage *ss, socklen_t *len, int port) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    *len = sizeof *sin;
    return inet_pton(AF_INET, text, &sin->sin_addr) == 1;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((unsigned short)port);
  *len = sizeof *sin6;
  if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) return 1;
  struct in_addr v4;
  if (inet_pton(AF_INET, text, &v4) != 1) return 0;
  sin6->sin6_addr.s6_addr[10] = 0xff;
  sin6->sin6_addr.s6_addr[11] = 0xff;
  memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
  return 1;
}

// createTcpSocket(family: 4 | 6): number — a new non-blocking, close-on-exec TCP socket.
static napi_value CreateTcpSocket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int family;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 4, 6, "family", &family)) return NULL;
  if (family == 5) return throw_type(env, "sockopt: family must be 4 or 6");
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket", "creating a TCP socket");
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

// bindSocket(fd, address, port): SO_REUSEADDR (as libuv does for TCP) and bind().
static napi_value BindSocket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd, port, on = 1;
  char address[INET6_ADDRSTRLEN + 1];
  struct sockaddr_storage ss;
  socklen_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 0, 0x7fffffff, "fd", &fd)) return NULL;
  if (!string_arg(env, argv, argc, 1, address, sizeof address, "address")) return NULL;
  if (!int_arg(env, argv, argc, 2, 0, 65535, "port", &port)) return NULL;
  int family = socket_family(fd);
  if (family < 0) return throw_errno(env, errno, "getsockopt SO_DOMAIN", "binding");
  if (!parse_address(family, address, &ss, &len, port)) return throw_type(env, "sockopt: address is not an IP address of the socket's family");
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return throw_errno(env, errno, "setsockopt SO_REUSEADDR", "binding");
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) return throw_errno(env, errno, "bind", "binding");
  return NULL;
}

// closeSocket(fd): closes a descriptor that was never handed to a net.Socket or net.Server.
static napi_value CloseSocket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 0, 0x7fffffff, "fd", &fd)) return NULL;
  if (close(fd) != 0) return throw_errno(env, errno, "close", "closing a socket");
  return NULL;
}

// setTcpMd5Sig(fd, peerAddress, key: Uint8Array): installs (or, with an empty key, removes) the
// RFC 2385 key for segments to and from peerAddress.
static napi_value SetTcpMd5Sig(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd;
  char address[INET6_ADDRSTRLEN + 1];
  bool is_typed = false;
  void *data = NULL;
  size_t keylen = 0;
  struct md5sig sig;
  socklen_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 0, 0x7fffffff, "fd", &fd)) return NULL;
  if (!string_arg(env, argv, argc, 1, address, sizeof address, "peerAddress")) return NULL;
  if (argc < 3 || napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed) return throw_type(env, "sockopt: key must be a Uint8Array");
  napi_typedarray_type ttype;
  CHECK(napi_get_typedarray_info(env, argv[2], &ttype, &keylen, &data, NULL, NULL));
  if (ttype != napi_uint8_array) return throw_type(env, "sockopt: key must be a Uint8Array");
  if (keylen > TCP_MD5SIG_MAXKEYLEN) {
    napi_throw_range_error(env, NULL, "sockopt: a TCP MD5 key is at most 80 bytes");
    return NULL;
  }
  int family = socket_family(fd);
  if (family < 0) return throw_errno(env, errno, "getsockopt SO_DOMAIN", "TCP MD5 key");
  memset(&sig, 0, sizeof sig);
  if (!parse_address(family, address, &sig.addr, &len, 0)) return throw_type(env, "sockopt: peerAddress is not an IP address of the socket's family");
  sig.keylen = (unsigned short)keylen;
  if (keylen > 0) memcpy(sig.key, data, keylen);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) != 0) return throw_errno(env, errno, "setsockopt TCP_MD5SIG", "TCP MD5 key");
  return NULL;
}

// The levels and names of the TTL options for a socket of family: [0] IPv4, [1] IPv6.
// An IPv6 socket may carry IPv4-mapped traffic, so both are set on it; on an IPv6-only socket the
// IPv4 option may fail, which is ignored.
static napi_value set_ttl_option(napi_env env, napi_callback_info info, int v4name, int v6name, const char *v4text, const char *v6text, int min) {
  size_t argc = 2;
  napi_value argv[2];
  int fd, ttl;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 0, 0x7fffffff, "fd", &fd)) return NULL;
  if (!int_arg(env, argv, argc, 1, min, 255, "ttl", &ttl)) return NULL;
  int family = socket_family(fd);
  if (family < 0) return throw_errno(env, errno, "getsockopt SO_DOMAIN", v4text);
  if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, v6name, &ttl, sizeof ttl) != 0) return throw_errno(env, errno, v6text, v6text);
    int v6only = 0;
    socklen_t len = sizeof v6only;
    if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) == 0 && !v6only) {
      if (setsockopt(fd, IPPROTO_IP, v4name, &ttl, sizeof ttl) != 0) return throw_errno(env, errno, v4text, v4text);
    }
    return NULL;
  }
  if (setsockopt(fd, IPPROTO_IP, v4name, &ttl, sizeof ttl) != 0) return throw_errno(env, errno, v4text, v4text);
  return NULL;
}

static napi_value get_ttl_option(napi_env env, napi_callback_info info, int v4name, int v6name, const char *what) {
  size_t argc = 1;
  napi_value argv[1], result;
  int fd, value = 0;
  socklen_t len = sizeof value;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!int_arg(env, argv, argc, 0, 0, 0x7fffffff, "fd", &fd)) return NULL;
  int family = socket_family(fd);
  if (family < 0) return throw_errno(env, errno, "getsockopt SO_DOMAIN", what);
  int level = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
  int name = family == AF_INET6 ? v6name : v4name;
  if (getsockopt(fd, level, name, &value, &len) != 0) return throw_errno(env, errno, "getsockopt", what);
  CHECK(napi_create_int32(env, value, &result));
  return result;
}

// setTtl(fd, ttl 1-255): IP_TTL, or IPV6_UNICAST_HOPS (and IP_TTL when dual-stack).
static napi_value SetTtl(napi_env env, napi_callback_info info) {
  return set_ttl_option(env, info, IP_TTL, IPV6_UNICAST_HOPS, "setsockopt IP_TTL", "setsockopt IPV6_UNICAST_HOPS", 1);
}

// setMinTtl(fd, ttl 0-255): IP_MINTTL, or IPV6_MINHOPCOUNT (and IP_MINTTL when dual-stack). 0 turns it off.
static napi_value SetMinTtl(napi_env env, napi_callback_info info) {
  return set_ttl_option(env, info, IP_MINTTL, IPV6_MINHOPCOUNT, "setsockopt IP_MINTTL", "setsockopt IPV6_MINHOPCOUNT", 0);
}

// getTtl(fd): the socket's IP_TTL, or IPV6_UNICAST_HOPS for an IPv6 socket (-1: the default).
static napi_value GetTtl(napi_env env, napi_callback_info info) {
  return get_ttl_option(env, info, IP_TTL, IPV6_UNICAST_HOPS, "reading the TTL");
}

// getMinTtl(fd): the socket's IP_MINTTL, or IPV6_MINHOPCOUNT for an IPv6 socket.
static napi_value GetMinTtl(napi_env env, napi_callback_info info) {
  return get_ttl_option(env, info, IP_MINTTL, IPV6_MINHOPCOUNT, "reading the minimum TTL");
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createTcpSocket", NULL, CreateTcpSocket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bindSocket", NULL, BindSocket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeSocket", NULL, CloseSocket, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTcpMd5Sig", NULL, SetTcpMd5Sig, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTtl", NULL, SetTtl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMinTtl", NULL, SetMinTtl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getTtl", NULL, GetTtl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getMinTtl", NULL, GetMinTtl, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (udp_define(env, exports) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
