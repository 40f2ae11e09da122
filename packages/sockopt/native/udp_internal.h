// Shared by native/udp*.c (not part of the addon's interface): the socket, per-env state, and the
// argument, address and error helpers of udp_args.c.
#ifndef SOCKOPT_UDP_INTERNAL_H
#define SOCKOPT_UDP_INTERNAL_H
#include <node_api.h>
#include <uv.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

// Datagrams read per readable event at most; the rest wait for the next loop turn (level-triggered),
// so a flood cannot keep timers from running.
#define MAX_DATAGRAMS_PER_WAKEUP 256
// An IPv6 address with a zone: "fe80::1%eth0".
#define ADDRESS_TEXT (INET6_ADDRSTRLEN + IF_NAMESIZE + 2)

// Per-env instance data (the addon's only use of napi_set_instance_data, which is one slot per addon
// and env): one receive buffer, used only on that env's loop thread.
typedef struct {
  unsigned char buffer[65536];
} udp_env;

typedef struct udp_socket udp_socket;

// What the JS handle (an external) points to; it outlives the socket when JS keeps the handle.
typedef struct {
  udp_socket *socket;
} udp_box;

struct udp_socket {
  uv_poll_t poll;
  napi_env env;
  int fd;
  int family;
  int closing;
  napi_ref on_message, on_error, resource;
  napi_async_context async;
  napi_async_cleanup_hook_handle cleanup;
  udp_box *box;
  double datagrams, wakeups;
};

// udp_args.c
napi_value udp_errno_error(napi_env env, int err, const char *syscall);
napi_value udp_throw_errno(napi_env env, int err, const char *syscall);
int udp_int_arg(napi_env env, napi_value value, int min, int max, const char *name, int *out);
int udp_string_arg(napi_env env, napi_value value, char *buf, size_t size, const char *name);
int udp_function_arg(napi_env env, napi_value value, napi_value *out, const char *name);
int udp_parse_address(int family, const char *text, int port, struct sockaddr_storage *ss, socklen_t *len);
int udp_set_int(int fd, int level, int name, int value);

// udp_receive.c: the uv_poll callback of a receiving socket.
void udp_on_readable(uv_poll_t *handle, int status, int events);

#endif
