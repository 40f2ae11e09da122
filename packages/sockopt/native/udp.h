// UDP sockets with the received TTL / hop limit (native/udp.c), for BFD.
#ifndef SOCKOPT_UDP_H
#define SOCKOPT_UDP_H
#include <node_api.h>

// Adds udpOpen, udpSend, udpClose, udpRef and udpStats to the addon's exports.
napi_status udp_define(napi_env env, napi_value exports);

#endif
