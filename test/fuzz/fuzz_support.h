// Shared by the fuzz targets of test/fuzz/. Each target defines LLVMFuzzerTestOneInput; with clang
// and RIO_FUZZ=ON it links libFuzzer, otherwise replay_main.cc, which runs it over the corpus
// (so every input that once crashed stays a regression test in the ordinary build).
//
// A property that does not hold aborts with a message: libFuzzer then saves the input.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rio::fuzz {

inline std::string_view asText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %s%s%.*s\n", what, detail.empty() ? "" : ": ",
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

#define RIO_FUZZ_CHECK(cond, detail) \
  do {                               \
    if (!(cond)) ::rio::fuzz::fail(#cond, (detail)); \
  } while (0)

}  // namespace rio::fuzz
