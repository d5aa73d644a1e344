// Watch events and the decoder for kube-apiserver's watch framing (a stream of JSON objects
// `{"type": ..., "object": ...}`, one per line, split across chunks at arbitrary points).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/error.h"

namespace rio::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view toString(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;  // the object; for kError a meta/v1 Status
};

/// Incremental decoder. Not thread-safe (one per stream). Input is untrusted: every malformed
/// shape is an Error, never a crash or an exception.
class WatchDecoder {
 public:
  /// Largest single event accepted (a Secret can be 1 MiB; leave room).
  static constexpr std::size_t kMaxEventBytes = 16 * 1024 * 1024;

  /// Feeds more bytes; returns the events completed by them, in order. After an error the decoder
  /// stays failed, and the events completed earlier in the same bytes are not returned (the watch
  /// ends on the error and the relist that follows recovers them).
  Expected<std::vector<WatchEvent>> feed(std::string_view bytes);
  /// True when bytes of an unfinished event are buffered.
  bool hasPartial() const;

 private:
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ already scanned for the end of the current value
  int depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
  bool failed_ = false;
};

/// Decodes one complete event document. Exposed for tests and fuzzing.
Expected<WatchEvent> decodeWatchEvent(std::string_view json);

/// Receives a watch. Callbacks run on an I/O thread, in order, never concurrently.
struct WatchHandler {
  std::function<void(WatchEvent&& event)> onEvent;
  /// Exactly once. nullopt: the server ended the watch normally (timeoutSeconds, server-side
  /// timeout). Otherwise the reason: isGone() for an expired resourceVersion (HTTP 410 or an
  /// in-stream ERROR event with code 410), the API error for a non-200 answer, a transport or
  /// decode error, or kCancelled after Watch::stop().
  std::function<void(const std::optional<Error>& error)> onClose;
};

/// A running watch. The caller's WatchPtr keeps it running: dropping the last one cancels the
/// stream, and the handler is not called after that (not even onClose).
class Watch {
 public:
  virtual ~Watch() = default;
  /// Ends the watch; onClose runs (with kCancelled) unless it already ran. Thread-safe, idempotent.
  virtual void stop() = 0;
};
using WatchPtr = std::shared_ptr<Watch>;

}  // namespace rio::kube
