// Drives one ApiServer through FakeExchange as an HTTP client would, with recorded-fixture
// helpers, for the testenv tests.
#pragma once

#include <fstream>
#include <sstream>

#include "test/support/fake_exchange.h"
#include "test/testenv/testing/fake_collaborators.h"

namespace rio::testenv::testing {

/// The body of a recorded exchange in test/fixtures/kube-apiserver-1.32/.
inline std::string recordedBody(const std::string& file) {
  std::ifstream in(std::string(RIO_SOURCE_DIR) + "/test/fixtures/kube-apiserver-1.32/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  auto pos = all.find("\n\n", all.find("--- response"));
  return pos == std::string::npos ? std::string() : all.substr(pos + 2);
}

inline nlohmann::json recordedJson(const std::string& file) {
  return nlohmann::json::parse(recordedBody(file));
}

/// The request body of a recorded exchange (the text between the headers and "--- response").
inline std::string recordedRequest(const std::string& file) {
  std::ifstream in(std::string(RIO_SOURCE_DIR) + "/test/fixtures/kube-apiserver-1.32/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  auto start = all.find("\n\n");
  auto end = all.find("\n\n--- response");
  if (start == std::string::npos || end == std::string::npos || end <= start) return {};
  return all.substr(start + 2, end - start - 2);
}

inline http::ServerRequest makeRequest(const std::string& method, const std::string& target,
                                       const std::string& body, http::Headers headers) {
  http::ServerRequest req;
  req.method = method;
  req.target = target;
  auto parsed = http::parseRequestTarget(target);
  req.path = std::move(parsed.path);
  req.query = std::move(parsed.query);
  req.headers = std::move(headers);
  req.body = body;
  req.remoteAddress = "127.0.0.1:40000";
  return req;
}

struct Reply {
  int status = 0;
  nlohmann::json body;  // null when not JSON
  std::string raw;
  http::Headers headers;
  std::shared_ptr<rio::testing::FakeExchange> exchange;
  std::optional<std::string> header(const std::string& name) const {
    auto h = http::findHeader(headers, name);
    return h ? std::optional<std::string>(std::string(*h)) : std::nullopt;
  }
  /// Watch streams: one JSON object per line.
  std::vector<nlohmann::json> events() const {
    std::vector<nlohmann::json> out;
    std::string text = exchange->body();
    std::size_t start = 0;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      if (nl == std::string::npos) break;
      out.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
      start = nl + 1;
    }
    return out;
  }
};

/// One ApiServer with fake collaborators, seeded deterministically, plus a `demo` namespace.
struct Harness {
  FakeWorld world;
  std::unique_ptr<ApiServer> server;

  static ApiServerOptions defaultOptions() {
    ApiServerOptions o;
    o.randomSeed = 42;
    o.serviceCidr = "10.0.0.0/24";
    return o;
  }

  explicit Harness(ApiServerOptions options = defaultOptions(), bool demoNamespace = true) {
    server = std::make_unique<ApiServer>(std::move(options), world.deps());
    world.scheduler->runDue();
    if (demoNamespace)
      post("/api/v1/namespaces",
           R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})");
  }
  /// The real merge.h and auth.h implementations (only clock and timers are fakes); the admin
  /// and alice tokens are registered with the real token authority.
  struct Real {};
  Harness(Real, ApiServerOptions options = defaultOptions()) {
    ApiServerDeps d;
    d.clock = world.clock;
    d.scheduler = world.scheduler;
    server = std::make_unique<ApiServer>(std::move(options), std::move(d));
    UserInfo admin;
    admin.name = "admin";
    admin.groups = {"system:masters", "system:authenticated"};
    server->tokens().addStaticToken("admin-token", admin);
    UserInfo alice;
    alice.name = "alice";
    alice.groups = {"system:authenticated"};
    server->tokens().addStaticToken("alice-token", alice);
    world.scheduler->runDue();
    post("/api/v1/namespaces",
         R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})");
  }
  Harness(ApiServerOptions options, MergeFunctions merge) {
    server = std::make_unique<ApiServer>(std::move(options), world.deps(std::move(merge)));
    world.scheduler->runDue();
    post("/api/v1/namespaces",
         R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}})");
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = {},
             const std::string& contentType = "application/json",
             const std::string& token = "admin-token", http::Headers extra = {}) {
    http::Headers headers = {{"Accept", "application/json"}, {"User-Agent", "curl/8.5.0"}};
    if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
    if (!contentType.empty() &&
        (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
      headers.push_back({"Content-Type", contentType});
    }
    for (auto& h : extra) {
      auto it = std::find_if(headers.begin(), headers.end(),
                             [&](const http::Header& x) { return x.name == h.name; });
      if (it != headers.end())
        *it = h;
      else
        headers.push_back(h);
    }
    return send(makeRequest(method, target, body, std::move(headers)));
  }
  Reply send(http::ServerRequest req) {
    auto ex = std::make_shared<rio::testing::FakeExchange>();
    server->handle(std::move(req), ex);
    Reply r;
    r.exchange = ex;
    r.status = ex->status();
    r.raw = ex->body();
    r.headers = ex->headers();
    if (!ex->streaming()) {
      r.body = nlohmann::json::parse(r.raw, nullptr, false);
      if (r.body.is_discarded()) r.body = nullptr;
    }
    return r;
  }
  Reply get(const std::string& target) { return call("GET", target); }
  Reply post(const std::string& target, const std::string& body,
             const std::string& ct = "application/json") {
    return call("POST", target, body, ct);
  }
  Reply put(const std::string& target, const std::string& body) {
    return call("PUT", target, body);
  }
  Reply patch(const std::string& target, const std::string& body, const std::string& ct) {
    return call("PATCH", target, body, ct);
  }
  Reply del(const std::string& target, const std::string& body = {}) {
    return call("DELETE", target, body);
  }
  /// Starts a watch (the reply's exchange keeps streaming).
  Reply watch(const std::string& target, const std::string& token = "admin-token",
              http::Headers extra = {}) {
    return call("GET", target, {}, {}, token, std::move(extra));
  }
};

}  // namespace rio::testenv::testing
