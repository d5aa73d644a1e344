// Fuzz target: error bodies of API servers and whatever sits in front of them (proxies, load
// balancers answering HTML or binary). Status::parse and Error::fromHttp must never crash or
// throw; a parsed Status survives toJson -> fromJson and its code is an HTTP status (or absent); the message an error carries is short and
// printable, whatever the body was.
#include <nlohmann/json.hpp>

#include "api/meta/error.h"
#include "api/meta/status.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rio;
  if (size < 2) return 0;
  const int code = 400 + data[0] % 200;  // the HTTP status the server answered with
  const auto body = fuzz::asText(data + 1, size - 1);

  const auto status = meta::Status::parse(body);
  if (status) {
    // Encoding normalises (an empty status becomes "Failure"); after that it is a fixed point.
    const auto encoded = status->toJson();
    auto again = meta::Status::fromJson(encoded);
    RIO_FUZZ_CHECK(again.has_value(), encoded.dump());
    RIO_FUZZ_CHECK(again->toJson() == encoded, encoded.dump());
    RIO_FUZZ_CHECK(status->code == 0 || (status->code >= 100 && status->code <= 599), encoded.dump());
  }

  const auto error = Error::fromHttp(code, body);
  RIO_FUZZ_CHECK(!error.message().empty(), body);
  if (!status) {
    // Not a Status: the body may be anything; at most a short printable snippet is kept.
    RIO_FUZZ_CHECK(error.message().size() <= 300, error.message());
    for (unsigned char c : error.message())
      RIO_FUZZ_CHECK(c >= 0x20 && c != 0x7f, error.message());
  }
  return 0;
}
