// Structured logging: JSON lines by default (one object per line with `ts`, `level`, `msg` and the
// fields), human text when stderr is a terminal. Constant messages, data in fields:
//
//   log::Logger logger = log::root().with({{"controller", "membership"}, {"cluster", name}});
//   logger.info("remote secret written", {{"secret", secretName}});
//
// Never pass tokens, keys, passwords or kubeconfig contents as a field or message.
// The logger is the one process-wide global (STYLE.md).
#pragma once

#include <functional>
#include <optional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rio::log {

enum class Level { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kOff = 5 };
enum class Format { kAuto, kJson, kText };

/// Parses "debug", "info", ... (case-insensitive); nullopt when unknown.
std::optional<Level> parseLevel(std::string_view text);
std::optional<Format> parseFormat(std::string_view text);

/// Sets the global level and format (kAuto: text when stderr is a TTY, else JSON). Thread-safe.
void configure(Level level, Format format = Format::kAuto);
Level level();

/// Where formatted lines go besides stderr (tests capture them to grep for secrets). The sink
/// receives each finished line without the trailing newline. Returns an id for removeSink().
int addSink(std::function<void(std::string_view line)> sink);
void removeSink(int id);
/// Stops writing to stderr (tests that capture); sinks still receive lines.
void setStderrEnabled(bool enabled);

struct Field {
  std::string key;
  nlohmann::json value;
};
using Fields = std::vector<Field>;

/// A logger with fields attached to every line. Cheap to copy. Thread-safe.
class Logger {
 public:
  Logger() = default;
  /// A child logger with more fields (later fields with the same key replace earlier ones).
  Logger with(std::initializer_list<Field> fields) const;
  Logger with(const Fields& fields) const;

  void trace(std::string_view msg, std::initializer_list<Field> fields = {}) const { write(Level::kTrace, msg, fields); }
  void debug(std::string_view msg, std::initializer_list<Field> fields = {}) const { write(Level::kDebug, msg, fields); }
  void info(std::string_view msg, std::initializer_list<Field> fields = {}) const { write(Level::kInfo, msg, fields); }
  void warn(std::string_view msg, std::initializer_list<Field> fields = {}) const { write(Level::kWarn, msg, fields); }
  void error(std::string_view msg, std::initializer_list<Field> fields = {}) const { write(Level::kError, msg, fields); }

  bool enabled(Level lvl) const;
  void write(Level lvl, std::string_view msg, std::initializer_list<Field> fields) const;
  const Fields& fields() const { return fields_; }

 private:
  Fields fields_;
};

/// The logger without fields.
const Logger& root();

}  // namespace rio::log
