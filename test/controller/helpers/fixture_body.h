// The response body of a recorded kube-apiserver exchange (test/fixtures/kube-apiserver-1.32).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace rio::testing {

/// The body after the "--- response" headers of fixture `name` (e.g. "cm-apply-conflict-409.txt").
inline std::string fixtureResponseBody(const std::string& name) {
  std::ifstream in(std::string(RIO_SOURCE_DIR) + "/test/fixtures/kube-apiserver-1.32/" + name);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  auto response = text.find("--- response");
  auto body = text.find("\n\n", response);
  return body == std::string::npos ? std::string() : text.substr(body + 2);
}

}  // namespace rio::testing
