// Fuzz target: requests to kube-testenv's API server, in the form the recorded exchanges of
// test/fixtures/kube-apiserver-1.32/ are written in:
//
//   POST /api/v1/namespaces/demo/configmaps?fieldManager=x
//   Content-Type: application/json
//
//   {"metadata":{"name":"c1"}}
//
// Every request gets an answer (or a watch stream) and never a crash, an exception or a hang;
// every error answer is a meta/v1 Status whose code is the HTTP status, as kube-apiserver does.
// Requests carry the admin token unless they bring an Authorization header of their own. The
// server keeps its state across inputs (objects created by one are seen by the next) and is
// rebuilt every few thousand inputs to keep memory bounded. The admin endpoints (/_testenv/...)
// are left out: their faults make requests go unanswered on purpose.
#include <memory>

#include <nlohmann/json.hpp>

#include "api/meta/status.h"
#include "test/fuzz/fuzz_support.h"
#include "test/testenv/testing/harness.h"

namespace {

using rio::testenv::testing::Harness;

rio::http::ServerRequest parseRequest(std::string_view text) {
  auto line = [&text]() {
    auto eol = text.find('\n');
    auto l = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    return l;
  };
  const auto requestLine = line();
  const auto space = requestLine.find(' ');
  const std::string method(requestLine.substr(0, space));
  const std::string target(space == std::string_view::npos ? "/" : requestLine.substr(space + 1));
  rio::http::Headers headers;
  for (auto l = line(); !l.empty(); l = line()) {
    auto colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    auto value = l.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.push_back({std::string(l.substr(0, colon)), std::string(value)});
  }
  if (!rio::http::findHeader(headers, "Authorization"))
    headers.push_back({"Authorization", "Bearer admin-token"});
  return rio::testenv::testing::makeRequest(method, target, std::string(text), std::move(headers));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rio;
  static std::unique_ptr<Harness> harness;
  static std::size_t served = 0;
  if (!harness || ++served % 4096 == 0) harness = std::make_unique<Harness>(Harness::Real{});

  auto request = parseRequest(fuzz::asText(data, size));
  // The admin endpoints inject faults (a blackhole, latency): requests then rightly get no answer.
  if (request.path.starts_with("/_testenv")) return 0;
  auto reply = harness->send(std::move(request));
  harness->world.scheduler->runDue();  // garbage collection, namespace deletion, ...
  RIO_FUZZ_CHECK(reply.status >= 200 && reply.status <= 599, std::to_string(reply.status));
  if (reply.status >= 400 && !reply.exchange->streaming()) {
    auto status = meta::Status::fromJson(reply.body);
    RIO_FUZZ_CHECK(status.has_value(), reply.raw);
    RIO_FUZZ_CHECK(status->code == reply.status, reply.raw);
  }
  if (reply.exchange->streaming()) reply.exchange->clientGone();  // the client hangs up
  return 0;
}
