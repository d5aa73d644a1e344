// Fuzz target: a watch response body, however the network splits it. The decoder must never
// crash or throw, and must decode the same events (or fail the same way) whether the bytes come
// at once or in pieces. The first input byte chooses the piece size.
#include <vector>

#include "controller/kube/watch.h"
#include "test/fuzz/fuzz_support.h"

namespace {

struct Outcome {
  std::vector<rio::kube::WatchEvent> events;
  bool failed = false;
};

Outcome decodeInPieces(std::string_view body, std::size_t piece) {
  rio::kube::WatchDecoder decoder;
  Outcome out;
  while (!body.empty()) {
    auto chunk = body.substr(0, piece);
    body.remove_prefix(chunk.size());
    auto events = decoder.feed(chunk);
    if (!events) {
      out.failed = true;
      return out;
    }
    for (auto& e : *events) out.events.push_back(std::move(e));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rio;
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const auto body = fuzz::asText(data + 1, size - 1);

  const auto whole = decodeInPieces(body, body.size() + 1);
  const auto pieces = decodeInPieces(body, piece);
  RIO_FUZZ_CHECK(whole.failed == pieces.failed, body);
  // A feed that fails returns none of the events completed in its chunk (the watch then ends and
  // the informer relists, which recovers them), so when the stream is bad, smaller pieces may
  // deliver more of the events before the bad one: the whole-body events are then a prefix.
  if (whole.failed) {
    RIO_FUZZ_CHECK(whole.events.size() <= pieces.events.size(), body);
  } else {
    RIO_FUZZ_CHECK(whole.events.size() == pieces.events.size(), body);
  }
  for (std::size_t i = 0; i < whole.events.size(); ++i) {
    RIO_FUZZ_CHECK(whole.events[i].type == pieces.events[i].type, body);
    RIO_FUZZ_CHECK(whole.events[i].object == pieces.events[i].object, body);
  }
  for (const auto& e : whole.events) {
    // What informers rely on: every event carries an object, errors carry a Status.
    RIO_FUZZ_CHECK(e.object.is_object(), body);
  }
  return 0;
}
