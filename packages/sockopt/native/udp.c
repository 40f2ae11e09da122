// UDP sockets that report each received datagram's TTL / hop limit, for BFD (RFC 5881 single-hop needs
// TTL 255, RFC 5883 multihop a configured minimum): recvmsg() with IP_RECVTTL / IPV6_RECVHOPLIMIT and
// IP_PKTINFO / IPV6_RECVPKTINFO (destination address, interface), sendto() with a fixed TTL, bound to an
// address and port and optionally to a device (SO_BINDTODEVICE). Node's dgram can do none of the
// receive side. Readability comes from a uv_poll_t on the env's own libuv loop, so a socket works on the
// main thread and in a worker_thread alike; there is no process-global state: the receive buffer is the
// env's instance data, and every open socket has an async cleanup hook that closes it when its env
// (a worker, say) goes away.
//
// This file: opening, sending, closing and teardown. udp_receive.c: the receive path. udp_args.c:
// argument, address and error helpers. Exported to JS (src/udp.ts wraps them): udpOpen, udpSend,
// udpClose, udpRef, udpStats.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"
#include "udp_internal.h"

#define CHECK(call)                                              \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error(env, NULL, "sockopt: N-API call failed"); \
      return NULL;                                               \
    }                                                            \
  } while (0)

// The poll handle is closed: release the JS references and the memory, and tell Node the socket's
// cleanup is done (which a worker's teardown waits for).
static void on_closed(uv_handle_t *handle) {
  udp_socket *s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  int scoped = napi_open_handle_scope(env, &scope) == napi_ok;
  if (s->on_message != NULL) napi_delete_reference(env, s->on_message);
  if (s->on_error != NULL) napi_delete_reference(env, s->on_error);
  if (s->async != NULL) napi_async_destroy(env, s->async);
  if (s->resource != NULL) napi_delete_reference(env, s->resource);
  if (scoped) napi_close_handle_scope(env, scope);
  if (s->box != NULL) s->box->socket = NULL;
  if (s->cleanup != NULL) napi_remove_async_cleanup_hook(s->cleanup);
  free(s);
}

// Stops reading and closes the descriptor at once (the port is free when close() returns); the rest
// is released in on_closed.
static void close_socket(udp_socket *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_close((uv_handle_t *)&s->poll, on_closed);
  close(s->fd);
}

// The env is going away (a worker ends, the process exits) with the socket still open.
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  close_socket(arg);
}

static void finalize_box(napi_env env, void *data, void *hint) {
  udp_box *box = data;
  if (box->socket != NULL) box->socket->box = NULL;
  free(box);
}

static void finalize_env(napi_env env, void *data, void *hint) {
  free(data);
}

// The socket a handle argument refers to; NULL (and a TypeError) when it is not a handle, NULL with
// *closed set when the socket is closed.
static udp_socket *socket_arg(napi_env env, napi_value value, int *closed) {
  udp_box *box = NULL;
  napi_valuetype type;
  *closed = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_get_value_external(env, value, (void **)&box) != napi_ok ||
      box == NULL) {
    napi_throw_type_error(env, NULL, "sockopt: not a UDP socket handle");
    return NULL;
  }
  if (box->socket == NULL || box->socket->closing) *closed = 1;
  return *closed ? NULL : box->socket;
}

// Creates, configures and binds the descriptor; returns it, or -1 having thrown.
static int open_descriptor(napi_env env, int family, const char *address, int port, int ttl, const char *device, int receive_buffer) {
  struct sockaddr_storage ss;
  socklen_t len;
  int parsed = udp_parse_address(family, address, port, &ss, &len);
  if (parsed == 0) {
    napi_throw_type_error(env, NULL, "sockopt: address is not an IP address of the socket's family");
    return -1;
  }
  if (parsed < 0) return udp_throw_errno(env, ENODEV, "if_nametoindex"), -1;
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return udp_throw_errno(env, errno, "socket"), -1;
  const char *failed = NULL;
  if (family == AF_INET6) {
    if (udp_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0) failed = "setsockopt IPV6_V6ONLY";
    else if (udp_set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) != 0) failed = "setsockopt IPV6_RECVHOPLIMIT";
    else if (udp_set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) != 0) failed = "setsockopt IPV6_RECVPKTINFO";
    else if (udp_set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl) != 0) failed = "setsockopt IPV6_UNICAST_HOPS";
  } else {
    if (udp_set_int(fd, IPPROTO_IP, IP_RECVTTL, 1) != 0) failed = "setsockopt IP_RECVTTL";
    else if (udp_set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) != 0) failed = "setsockopt IP_PKTINFO";
    else if (udp_set_int(fd, IPPROTO_IP, IP_TTL, ttl) != 0) failed = "setsockopt IP_TTL";
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max when we may (CAP_NET_ADMIN); the kernel doubles either.
  if (failed == NULL && receive_buffer > 0 && udp_set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, receive_buffer) != 0 &&
      udp_set_int(fd, SOL_SOCKET, SO_RCVBUF, receive_buffer) != 0) {
    failed = "setsockopt SO_RCVBUF";
  }
  if (failed == NULL && device != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device) + 1) != 0) {
    failed = "setsockopt SO_BINDTODEVICE";
  }
  if (failed == NULL && bind(fd, (struct sockaddr *)&ss, len) != 0) failed = "bind";
  if (failed != NULL) {
    int err = errno;
    close(fd);
    return udp_throw_errno(env, err, failed), -1;
  }
  return fd;
}

// udpOpen(family 4|6, address, port, ttl 1-255, device?, onMessage?, onError?, receiveBufferSize):
// { handle, address, port } (the bound address and port). Without onMessage the socket only sends;
// receiveBufferSize 0 keeps the kernel's default (net.core.rmem_default).
static napi_value UdpOpen(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8], on_message, on_error, name, result, handle, value;
  int family, port, ttl, receive_buffer;
  char address[ADDRESS_TEXT], device_name[IF_NAMESIZE + 2], *device = NULL;
  napi_valuetype type;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) return napi_throw_type_error(env, NULL, "sockopt: udpOpen takes 8 arguments"), NULL;
  if (!udp_int_arg(env, argv[0], 4, 6, "family", &family)) return NULL;
  if (family == 5) return napi_throw_type_error(env, NULL, "sockopt: family must be 4 or 6"), NULL;
  family = family == 4 ? AF_INET : AF_INET6;
  if (!udp_string_arg(env, argv[1], address, sizeof address, "address")) return NULL;
  if (!udp_int_arg(env, argv[2], 0, 65535, "port", &port)) return NULL;
  if (!udp_int_arg(env, argv[3], 1, 255, "ttl", &ttl)) return NULL;
  CHECK(napi_typeof(env, argv[4], &type));
  if (type != napi_undefined && type != napi_null) {
    if (!udp_string_arg(env, argv[4], device_name, sizeof device_name - 1, "device")) return NULL;
    device = device_name;
  }
  if (!udp_function_arg(env, argv[5], &on_message, "onMessage") || !udp_function_arg(env, argv[6], &on_error, "onError")) return NULL;
  if (!udp_int_arg(env, argv[7], 0, 0x7fffffff / 2, "receiveBufferSize", &receive_buffer)) return NULL;

  udp_env *state = NULL;
  CHECK(napi_get_instance_data(env, (void **)&state));
  if (state == NULL) {
    if ((state = malloc(sizeof *state)) == NULL) return udp_throw_errno(env, ENOMEM, "malloc");
    if (napi_set_instance_data(env, state, finalize_env, NULL) != napi_ok) {
      free(state);
      return udp_throw_errno(env, ENOMEM, "napi_set_instance_data");
    }
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int fd = open_descriptor(env, family, address, port, ttl, device, receive_buffer);
  if (fd < 0) return NULL;

  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  char bound_text[ADDRESS_TEXT] = "";
  int bound_port = 0;
  if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0) {
    void *addr = family == AF_INET ? (void *)&((struct sockaddr_in *)&bound)->sin_addr : (void *)&((struct sockaddr_in6 *)&bound)->sin6_addr;
    inet_ntop(family, addr, bound_text, sizeof bound_text);
    bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port : ((struct sockaddr_in6 *)&bound)->sin6_port);
  }

  udp_socket *s = calloc(1, sizeof *s);
  udp_box *box = calloc(1, sizeof *box);
  int r = s == NULL || box == NULL ? UV_ENOMEM : uv_poll_init(loop, &s->poll, fd);
  if (r != 0) {
    free(s);
    free(box);
    close(fd);
    return udp_throw_errno(env, -r, "uv_poll_init");
  }
  s->poll.data = s;
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->box = box;
  box->socket = s;
  // From here on the socket is released by close_socket() (on_closed copes with what is not set up).
  napi_status status = napi_add_async_cleanup_hook(env, on_env_teardown, s, &s->cleanup);
  if (status == napi_ok) status = napi_create_object(env, &value);
  if (status == napi_ok) status = napi_create_reference(env, value, 1, &s->resource);
  if (status == napi_ok) status = napi_create_string_utf8(env, "BfdUdpSocket", NAPI_AUTO_LENGTH, &name);
  if (status == napi_ok) status = napi_async_init(env, value, name, &s->async);
  if (status == napi_ok && on_message != NULL) status = napi_create_reference(env, on_message, 1, &s->on_message);
  if (status == napi_ok && on_error != NULL) status = napi_create_reference(env, on_error, 1, &s->on_error);
  if (status == napi_ok) status = napi_create_external(env, box, finalize_box, NULL, &handle);
  if (status != napi_ok) {
    s->box = NULL;
    free(box);
    close_socket(s);
    napi_throw_error(env, NULL, "sockopt: N-API call failed");
    return NULL;
  }
  if (on_message != NULL && (r = uv_poll_start(&s->poll, UV_READABLE, udp_on_readable)) != 0) {
    close_socket(s);
    return udp_throw_errno(env, -r, "uv_poll_start");
  }
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "handle", handle));
  CHECK(napi_create_string_latin1(env, bound_text, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "address", value));
  CHECK(napi_create_int32(env, bound_port, &value));
  CHECK(napi_set_named_property(env, result, "port", value));
  return result;
}

// udpSend(handle, payload: Uint8Array, address, port): one sendto(); throws on failure (EAGAIN when
// the send buffer is full: the datagram is not sent).
static napi_value UdpSend(napi_env env, napi_callback_info info) {
  size_t argc = 4, length = 0;
  napi_value argv[4];
  int closed, port;
  char address[ADDRESS_TEXT];
  void *data = NULL;
  bool is_typed = false;
  napi_typedarray_type ttype;
  struct sockaddr_storage ss;
  socklen_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return napi_throw_type_error(env, NULL, "sockopt: udpSend takes 4 arguments"), NULL;
  udp_socket *s = socket_arg(env, argv[0], &closed);
  if (closed) return udp_throw_errno(env, EBADF, "sendto");
  if (s == NULL) return NULL;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &ttype, &length, &data, NULL, NULL) != napi_ok || ttype != napi_uint8_array) {
    return napi_throw_type_error(env, NULL, "sockopt: payload must be a Uint8Array"), NULL;
  }
  if (!udp_string_arg(env, argv[2], address, sizeof address, "address")) return NULL;
  if (!udp_int_arg(env, argv[3], 1, 65535, "port", &port)) return NULL;
  int parsed = udp_parse_address(s->family, address, port, &ss, &len);
  if (parsed == 0) return napi_throw_type_error(env, NULL, "sockopt: address is not an IP address of the socket's family"), NULL;
  if (parsed < 0) return udp_throw_errno(env, ENODEV, "if_nametoindex");
  ssize_t n;
  do {
    n = sendto(s->fd, data, length, 0, (struct sockaddr *)&ss, len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return udp_throw_errno(env, errno, "sendto");
  return NULL;
}

// udpClose(handle): stops callbacks at once (also when called from onMessage) and frees the port.
// Closing a closed socket does nothing.
static napi_value UdpClose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int closed;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return napi_throw_type_error(env, NULL, "sockopt: not a UDP socket handle"), NULL;
  udp_socket *s = socket_arg(env, argv[0], &closed);
  if (s != NULL) close_socket(s);
  return NULL;
}

// udpRef(handle, keepAlive: boolean): whether the socket keeps the event loop (process, worker) alive.
static napi_value UdpRef(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int closed;
  bool keep = true;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_bool(env, argv[1], &keep) != napi_ok) return napi_throw_type_error(env, NULL, "sockopt: udpRef(handle, boolean)"), NULL;
  udp_socket *s = socket_arg(env, argv[0], &closed);
  if (s == NULL) return NULL;
  if (keep) uv_ref((uv_handle_t *)&s->poll);
  else uv_unref((uv_handle_t *)&s->poll);
  return NULL;
}

// udpStats(handle): { datagrams, wakeups }: datagrams received, readable events that read them.
static napi_value UdpStats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, value;
  int closed;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return napi_throw_type_error(env, NULL, "sockopt: not a UDP socket handle"), NULL;
  udp_socket *s = socket_arg(env, argv[0], &closed);
  if (closed) return udp_throw_errno(env, EBADF, "stats");
  if (s == NULL) return NULL;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_double(env, s->datagrams, &value));
  CHECK(napi_set_named_property(env, result, "datagrams", value));
  CHECK(napi_create_double(env, s->wakeups, &value));
  CHECK(napi_set_named_property(env, result, "wakeups", value));
  return result;
}

napi_status udp_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"udpOpen", NULL, UdpOpen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSend", NULL, UdpSend, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpClose", NULL, UdpClose, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpRef", NULL, UdpRef, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpStats", NULL, UdpStats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
