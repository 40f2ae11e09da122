// Arguments, addresses and errors for native/udp.c: JS values checked into C values (TypeError /
// RangeError when they do not fit), IP addresses with an optional IPv6 zone, and Errors that carry the
// failed system call's errno.
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

// An Error "UDP: <syscall> failed: <strerror>" with .errno and .syscall (src/udp.ts rewords it).
napi_value udp_errno_error(napi_env env, int err, const char *syscall) {
  char text[192];
  napi_value msg, error, num, sys;
  snprintf(text, sizeof text, "UDP: %s failed: %s", syscall, strerror(err));
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  return error;
}

napi_value udp_throw_errno(napi_env env, int err, const char *syscall) {
  napi_value error = udp_errno_error(env, err, syscall);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

int udp_int_arg(napi_env env, napi_value value, int min, int max, const char *name, int *out) {
  napi_valuetype type;
  char text[128];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_int32(env, value, out) != napi_ok ||
      *out < min || *out > max) {
    snprintf(text, sizeof text, "sockopt: %s must be an integer %d-%d", name, min, max);
    napi_throw_range_error(env, NULL, text);
    return 0;
  }
  return 1;
}

int udp_string_arg(napi_env env, napi_value value, char *buf, size_t size, const char *name) {
  napi_valuetype type;
  size_t len;
  char text[128];
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string ||
      napi_get_value_string_utf8(env, value, buf, size, &len) != napi_ok || len >= size - 1) {
    snprintf(text, sizeof text, "sockopt: %s must be a string of at most %zu bytes", name, size - 2);
    napi_throw_type_error(env, NULL, text);
    return 0;
  }
  return 1;
}

// A function argument, or NULL for undefined / null; 0 (and a TypeError) for anything else.
int udp_function_arg(napi_env env, napi_value value, napi_value *out, const char *name) {
  napi_valuetype type;
  char text[128];
  *out = NULL;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined || type == napi_null) return 1;
  if (type == napi_function) {
    *out = value;
    return 1;
  }
  snprintf(text, sizeof text, "sockopt: %s must be a function", name);
  napi_throw_type_error(env, NULL, text);
  return 0;
}

// Parses an address of `family` (AF_INET: a.b.c.d; AF_INET6: x:y::z, with an optional zone "%eth0" or
// "%3" for link-local addresses). Returns 1, 0 when it is not such an address, -1 for an unknown zone.
int udp_parse_address(int family, const char *text, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)port);
    *len = sizeof *sin;
    return inet_pton(AF_INET, text, &sin->sin_addr) == 1;
  }
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
  char host[ADDRESS_TEXT];
  snprintf(host, sizeof host, "%s", text);
  char *zone = strchr(host, '%');
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons((unsigned short)port);
  *len = sizeof *sin6;
  if (zone != NULL) {
    *zone++ = '\0';
    char *end;
    unsigned long index = strtoul(zone, &end, 10);
    if (*zone == '\0') return 0;
    sin6->sin6_scope_id = *end == '\0' ? (uint32_t)index : if_nametoindex(zone);
    if (sin6->sin6_scope_id == 0) return -1;
  }
  return inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1;
}

int udp_set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}
