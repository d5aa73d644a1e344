#include "controller/core/logging.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace rio::log {
namespace {

// All mutable logging state lives here, behind one mutex (the one global of the process).
struct State {
  std::mutex mu;
  Format format = Format::kJson;
  bool stderrEnabled = true;
  int nextSinkId = 1;
  std::map<int, std::function<void(std::string_view)>> sinks;
  // spdlog writes the finished line to stderr; the pattern is the bare message because the
  // structure (JSON or text) is built here with the fields.
  std::shared_ptr<spdlog::logger> out = [] {
    auto logger = std::make_shared<spdlog::logger>("rio", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    return logger;
  }();
};

State& state() {
  static State s;
  return s;
}

std::atomic<int> gLevel{static_cast<int>(Level::kInfo)};

std::string_view levelName(Level lvl) {
  switch (lvl) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

std::string textValue(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    bool needsQuotes = s.empty() || s.find_first_of(" \"=\t\n") != std::string::npos;
    return needsQuotes ? v.dump() : s;
  }
  return v.dump();
}

void mergeFields(Fields& into, const Field& f) {
  auto it = std::find_if(into.begin(), into.end(), [&](const Field& x) { return x.key == f.key; });
  if (it != into.end()) {
    it->value = f.value;
  } else {
    into.push_back(f);
  }
}

}  // namespace

std::optional<Level> parseLevel(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "trace") return Level::kTrace;
  if (t == "debug") return Level::kDebug;
  if (t == "info") return Level::kInfo;
  if (t == "warn" || t == "warning") return Level::kWarn;
  if (t == "error") return Level::kError;
  if (t == "off" || t == "none") return Level::kOff;
  return std::nullopt;
}

std::optional<Format> parseFormat(std::string_view text) {
  if (text == "json") return Format::kJson;
  if (text == "text" || text == "console") return Format::kText;
  if (text == "auto") return Format::kAuto;
  return std::nullopt;
}

void configure(Level lvl, Format format) {
  gLevel = static_cast<int>(lvl);
  std::lock_guard lock(state().mu);
  if (format == Format::kAuto) format = ::isatty(STDERR_FILENO) ? Format::kText : Format::kJson;
  state().format = format;
}

Level level() { return static_cast<Level>(gLevel.load()); }

int addSink(std::function<void(std::string_view)> sink) {
  std::lock_guard lock(state().mu);
  int id = state().nextSinkId++;
  state().sinks.emplace(id, std::move(sink));
  return id;
}

void removeSink(int id) {
  std::lock_guard lock(state().mu);
  state().sinks.erase(id);
}

void setStderrEnabled(bool enabled) {
  std::lock_guard lock(state().mu);
  state().stderrEnabled = enabled;
}

Logger Logger::with(std::initializer_list<Field> fields) const {
  Logger child = *this;
  for (const auto& f : fields) mergeFields(child.fields_, f);
  return child;
}

Logger Logger::with(const Fields& fields) const {
  Logger child = *this;
  for (const auto& f : fields) mergeFields(child.fields_, f);
  return child;
}

bool Logger::enabled(Level lvl) const { return static_cast<int>(lvl) >= gLevel.load(std::memory_order_relaxed); }

void Logger::write(Level lvl, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!enabled(lvl) || lvl == Level::kOff) return;
  Fields all = fields_;
  for (const auto& f : fields) mergeFields(all, f);

  State& s = state();
  Format format;
  {
    std::lock_guard lock(s.mu);
    format = s.format;
  }
  std::string line;
  if (format == Format::kText) {
    line = timestamp();
    line += ' ';
    std::string lv(levelName(lvl));
    std::transform(lv.begin(), lv.end(), lv.begin(), [](unsigned char c) { return std::toupper(c); });
    line += lv;
    line += ' ';
    line += msg;
    for (const auto& f : all) {
      line += ' ';
      line += f.key;
      line += '=';
      line += textValue(f.value);
    }
  } else {
    nlohmann::ordered_json j;
    j["ts"] = timestamp();
    j["level"] = levelName(lvl);
    j["msg"] = msg;
    for (const auto& f : all) j[f.key] = f.value;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

  std::lock_guard lock(s.mu);
  if (s.stderrEnabled) s.out->log(spdlog::level::info, std::string_view(line));
  for (const auto& [id, sink] : s.sinks) sink(line);
}

const Logger& root() {
  static const Logger logger;
  return logger;
}

}  // namespace rio::log
