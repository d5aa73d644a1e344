// remote-istio-operator: the controller binary (placeholder until [runtime] wires the manager).
#include <cstdio>
#include <cstring>

#include "rio_version.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("remote-istio-operator %s\n", RIO_VERSION);
      return 0;
    }
  }
  std::fprintf(stderr, "remote-istio-operator %s: the controller manager is not built yet\n", RIO_VERSION);
  return 2;
}
