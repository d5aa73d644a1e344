// Reads the exchanges recorded from a real kube-apiserver 1.32 (test/fixtures/kube-apiserver-1.32):
// the request body and the response status and body, so merge tests can replay them.
#pragma once

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/core/clock.h"

namespace rio::testenv::recorded {

struct Exchange {
  nlohmann::json requestBody;                 // null when the request had none
  int status = 0;                             // HTTP status code of the answer
  nlohmann::json responseBody;                // the answer, when it is one JSON document
  std::vector<nlohmann::json> responseLines;  // a watch stream: one event per line
};

inline std::string readFixture(const std::string& name) {
  const std::string path =
      std::string(RIO_SOURCE_DIR) + "/test/fixtures/kube-apiserver-1.32/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read fixture " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text after the header block (first empty line) of `part`.
inline std::string bodyOf(const std::string& part) {
  auto blank = part.find("\n\n");
  return blank == std::string::npos ? std::string{} : part.substr(blank + 2);
}

inline Exchange load(const std::string& name) {
  const std::string text = readFixture(name);
  const std::string marker = "\n--- response\n";
  const auto split = text.find(marker);
  if (split == std::string::npos) throw std::runtime_error("no response in " + name);
  Exchange ex;
  const std::string requestBody = bodyOf(text.substr(0, split) + "\n");
  if (requestBody.find_first_not_of(" \n") != std::string::npos) {
    ex.requestBody = nlohmann::json::parse(requestBody);
  }
  const std::string response = text.substr(split + marker.size());
  ex.status = std::stoi(response.substr(response.find(' ') + 1, 3));
  const std::string body = bodyOf(response);
  auto whole = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!whole.is_discarded()) {
    ex.responseBody = std::move(whole);
  } else {
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) ex.responseLines.push_back(nlohmann::json::parse(line));
    }
  }
  return ex;
}

/// "2026-11-25T18:54:38Z" as a WallTime.
inline WallTime at(const std::string& rfc3339) {
  std::tm tm{};
  std::sscanf(rfc3339.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
              &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

/// `obj` without metadata.managedFields.
inline nlohmann::json withoutManagedFields(nlohmann::json obj) {
  obj["metadata"].erase("managedFields");
  return obj;
}

}  // namespace rio::testenv::recorded
