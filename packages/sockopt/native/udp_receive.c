// The receive path of a UDP socket (native/udp.c): on each readable event, recvmsg() until EAGAIN (at
// most MAX_DATAGRAMS_PER_WAKEUP) and hand every datagram to onMessage with the TTL / hop limit
// (IP_TTL / IPV6_HOPLIMIT control messages), the destination address and the interface (IP_PKTINFO /
// IPV6_PKTINFO).
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

#include "udp_internal.h"

// Calls the socket's onError with an errno error (from the loop: no JS caller to throw to).
static void report_error(udp_socket *s, int err, const char *syscall) {
  napi_env env = s->env;
  napi_value fn, undefined, error, exception;
  if (s->on_error == NULL || napi_get_reference_value(env, s->on_error, &fn) != napi_ok || fn == NULL) return;
  if ((error = udp_errno_error(env, err, syscall)) == NULL) return;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, fn, 1, &error, NULL) == napi_pending_exception &&
      napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
    napi_fatal_exception(env, exception);
  }
}

// Hands one received datagram to onMessage(payload, sourceAddress, sourcePort, ttl, localAddress,
// ifindex). Returns 0 when the callback threw (reported as an uncaught exception).
static int deliver(udp_socket *s, const unsigned char *data, size_t size, struct msghdr *msg) {
  napi_env env = s->env;
  const struct sockaddr_storage *from = msg->msg_name;
  char source[ADDRESS_TEXT] = "", local[ADDRESS_TEXT] = "";
  int ttl = -1, ifindex = 0, source_port = 0;
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)from;
    inet_ntop(AF_INET, &sin->sin_addr, source, sizeof source);
    source_port = ntohs(sin->sin_port);
  } else if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)from;
    inet_ntop(AF_INET6, &sin6->sin6_addr, source, sizeof source);
    source_port = ntohs(sin6->sin6_port);
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      inet_ntop(AF_INET, &info.ipi_addr, local, sizeof local);
      ifindex = info.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      inet_ntop(AF_INET6, &info.ipi6_addr, local, sizeof local);
      ifindex = (int)info.ipi6_ifindex;
    }
  }
  napi_value fn, undefined, argv[6], exception;
  if (napi_get_reference_value(env, s->on_message, &fn) != napi_ok || fn == NULL) return 0;
  if (napi_create_buffer_copy(env, size, data, NULL, &argv[0]) != napi_ok) return 0;
  napi_create_string_latin1(env, source, NAPI_AUTO_LENGTH, &argv[1]);
  napi_create_int32(env, source_port, &argv[2]);
  napi_create_int32(env, ttl, &argv[3]);
  napi_create_string_latin1(env, local, NAPI_AUTO_LENGTH, &argv[4]);
  napi_create_int32(env, ifindex, &argv[5]);
  napi_get_undefined(env, &undefined);
  napi_status status = napi_call_function(env, undefined, fn, 6, argv, NULL);
  if (status == napi_ok) return 1;
  if (status == napi_pending_exception && napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
    napi_fatal_exception(env, exception);
  }
  return 0;
}

// The fd is readable: read datagrams until EAGAIN (or MAX_DATAGRAMS_PER_WAKEUP), each handed to JS
// inside one callback scope, so promises and process.nextTick run after the batch as after any I/O.
void udp_on_readable(uv_poll_t *handle, int status, int events) {
  udp_socket *s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_callback_scope callback_scope;
  napi_value resource;
  udp_env *state = NULL;
  if (s->closing || napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, s->resource, &resource) != napi_ok ||
      napi_open_callback_scope(env, resource, s->async, &callback_scope) != napi_ok) {
    napi_close_handle_scope(env, scope);
    return;
  }
  if (status < 0) {
    // libuv stops the handle on POLLERR: report the socket's pending error (reading it clears it)
    // and keep receiving.
    int err = -status;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = -status;
    report_error(s, err, "poll");
    if (!s->closing) uv_poll_start(&s->poll, UV_READABLE, udp_on_readable);
  } else if (napi_get_instance_data(env, (void **)&state) == napi_ok && state != NULL) {
    s->wakeups++;
    for (int i = 0; i < MAX_DATAGRAMS_PER_WAKEUP && !s->closing; i++) {
      struct sockaddr_storage from;
      struct iovec iov = {state->buffer, sizeof state->buffer};
      union {
        char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
        struct cmsghdr align;
      } control;
      struct msghdr msg = {&from, sizeof from, &iov, 1, control.buf, sizeof control.buf, 0};
      ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(s, errno, "recvmsg");
        break;
      }
      s->datagrams++;
      napi_handle_scope inner;
      if (napi_open_handle_scope(env, &inner) != napi_ok) break;
      int ok = deliver(s, state->buffer, (size_t)n, &msg);
      napi_close_handle_scope(env, inner);
      if (!ok) break;
    }
  }
  napi_close_callback_scope(env, callback_scope);
  napi_close_handle_scope(env, scope);
}
