{
  "targets": [
    {
      "target_name": "sockopt",
      "sources": ["native/sockopt.c", "native/udp.c", "native/udp_args.c", "native/udp_receive.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
