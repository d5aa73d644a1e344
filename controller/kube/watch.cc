#include "controller/kube/watch.h"

namespace rio::kube {

std::string_view toString(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
    case WatchEventType::kBookmark: return "BOOKMARK";
    case WatchEventType::kError: return "ERROR";
  }
  return "UNKNOWN";
}

Expected<WatchEvent> decodeWatchEvent(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Error::decode("watch event is not valid JSON"));
  if (!j.is_object()) return fail(Error::decode("watch event is not a JSON object"));
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return fail(Error::decode("watch event has no string \"type\""));
  auto object = j.find("object");
  if (object == j.end() || !object->is_object()) {
    return fail(Error::decode("watch event has no \"object\""));
  }
  WatchEvent event;
  const auto& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    // Do not echo the value back in full: it is untrusted input.
    return fail(Error::decode("watch event has unknown type \"" + t.substr(0, 32) + "\""));
  }
  event.object = std::move(*object);
  return event;
}

bool WatchDecoder::hasPartial() const {
  for (std::size_t i = 0; i < buffer_.size(); ++i) {
    char c = buffer_[i];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return true;
  }
  return false;
}

Expected<std::vector<WatchEvent>> WatchDecoder::feed(std::string_view bytes) {
  if (failed_) return fail(Error::decode("watch stream decoder already failed"));
  buffer_.append(bytes);
  std::vector<WatchEvent> events;
  std::size_t start = 0;  // start of the current (unfinished) value in buffer_
  // `scanned_` is where scanning resumes inside the value that started at `start` == 0.
  std::size_t i = scanned_;
  while (i < buffer_.size()) {
    char c = buffer_[i];
    if (depth_ == 0) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        ++i;
        start = i;
        continue;
      }
      if (c != '{') {
        failed_ = true;
        return fail(Error::decode("watch stream: expected a JSON object, found another value"));
      }
      start = i;
      depth_ = 1;
      ++i;
      continue;
    }
    if (inString_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inString_ = false;
      }
    } else if (c == '"') {
      inString_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      --depth_;
      if (depth_ == 0) {
        auto event = decodeWatchEvent(std::string_view(buffer_).substr(start, i + 1 - start));
        if (!event) {
          failed_ = true;
          return fail(event.error());
        }
        events.push_back(std::move(*event));
        start = i + 1;
      }
    }
    ++i;
  }
  // Keep only the unfinished value; remember how far it was scanned.
  buffer_.erase(0, start);
  scanned_ = buffer_.size();
  if (depth_ == 0) {
    buffer_.clear();
    scanned_ = 0;
  }
  if (buffer_.size() > kMaxEventBytes) {
    failed_ = true;
    return fail(Error::decode("watch stream: an event exceeds " + std::to_string(kMaxEventBytes) + " bytes"));
  }
  return events;
}

}  // namespace rio::kube
