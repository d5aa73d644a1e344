#include "controller/kube/client.h"

#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "test/support/fake_clock.h"
#include "test/support/fake_transport.h"

using namespace rio;
using namespace rio::kube;
using rio::testing::FakeTransport;
using Json = nlohmann::json;

namespace {

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::vector<std::chrono::nanoseconds> sleeps;
  std::shared_ptr<testing::FakeClock> clock = std::make_shared<testing::FakeClock>();
  RestConfig config;
  ClientOptions options;

  Fixture() {
    config.server = "https://fake.example:6443";
    config.token = std::make_shared<StaticTokenSource>("s3cr3t-token-value");
    options.clock = clock;
    options.sleep = [this](std::chrono::nanoseconds d) {
      sleeps.push_back(d);
      clock->advance(d);
    };
  }
  ClientPtr client() { return makeClient(transport, config, options); }
};

std::string header(const http::Request& r, std::string_view name) {
  auto v = http::findHeader(r.headers, name);
  return v ? std::string(*v) : std::string();
}

const std::string kNotFound =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"secrets \"a\" not found","reason":"NotFound","details":{"name":"a","kind":"secrets"},"code":404})";

}  // namespace

TEST_CASE("Client: get sends the REST path with bearer token and JSON accept", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(200, R"({"kind":"Secret","metadata":{"name":"a","namespace":"ns"}})");
  auto got = f.client()->get(resources::kSecrets, {"ns", "a"});
  REQUIRE(got);
  CHECK((*got)["kind"] == "Secret");
  auto req = f.transport->requests().at(0);
  CHECK(req.method == "GET");
  CHECK(req.target == "/api/v1/namespaces/ns/secrets/a");
  CHECK(header(req, "Authorization") == "Bearer s3cr3t-token-value");
  CHECK(header(req, "Accept") == "application/json");
}

TEST_CASE("Client: group resources and cluster-scoped resources get their paths", "[kube][client]") {
  CHECK(resources::kDeployments.path("istio-system", "istio-sidecar-injector") ==
        "/apis/apps/v1/namespaces/istio-system/deployments/istio-sidecar-injector");
  CHECK(resources::kClusterRoles.path("ignored", "reader") == "/apis/rbac.authorization.k8s.io/v1/clusterroles/reader");
  CHECK(resources::kServiceAccounts.path("ns", "sa", "token") == "/api/v1/namespaces/ns/serviceaccounts/sa/token");
  CHECK(resources::kPods.path() == "/api/v1/pods");
  CHECK(resources::kDeployments.qualifiedName() == "deployments.apps");
}

TEST_CASE("Client: a 404 keeps its Status and names the operation", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(404, kNotFound);
  auto got = f.client()->get(resources::kSecrets, {"ns", "a"});
  REQUIRE_FALSE(got);
  CHECK(got.error().isNotFound());
  CHECK(got.error().message() == "get Secret ns/a: secrets \"a\" not found");
  CHECK(f.transport->requests().size() == 1);  // 4xx is never retried

  f.transport->enqueue(404, kNotFound);
  auto maybe = f.client()->getIfExists(resources::kSecrets, {"ns", "a"});
  REQUIRE(maybe);
  CHECK_FALSE(maybe->has_value());
}

TEST_CASE("Client: list encodes selectors and paging, listAll follows continue", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"10","continue":"tok 1"},"items":[{"metadata":{"name":"a"}}]})");
  f.transport->enqueue(200, R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"11"},"items":[{"metadata":{"name":"b"}}]})");
  ListOptions o;
  o.labelSelector = "app=x,tier in (a,b)";
  o.limit = 1;
  auto all = f.client()->listAll(resources::kConfigMaps, "demo", o);
  REQUIRE(all);
  REQUIRE((*all)["items"].size() == 2);
  CHECK((*all)["items"][1]["metadata"]["name"] == "b");
  CHECK((*all)["metadata"]["resourceVersion"] == "11");
  CHECK_FALSE((*all)["metadata"].contains("continue"));
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].target == "/api/v1/namespaces/demo/configmaps?labelSelector=app%3Dx%2Ctier%20in%20%28a%2Cb%29&limit=1");
  CHECK(reqs[1].target.find("continue=tok%201") != std::string::npos);
}

TEST_CASE("Client: create needs a namespace for namespaced kinds and posts JSON", "[kube][client]") {
  Fixture f;
  auto missing = f.client()->create(resources::kConfigMaps, Json{{"metadata", {{"name", "c"}}}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == ErrorKind::kInvalid);
  CHECK(f.transport->requests().empty());

  f.transport->enqueue(201, R"({"metadata":{"name":"c","namespace":"demo","uid":"u1"}})");
  WriteOptions w;
  w.fieldManager = "op";
  w.dryRun = true;
  auto created = f.client()->create(resources::kConfigMaps, Json{{"metadata", {{"name", "c"}, {"namespace", "demo"}}}}, w);
  REQUIRE(created);
  auto req = f.transport->requests().back();
  CHECK(req.method == "POST");
  CHECK(req.target == "/api/v1/namespaces/demo/configmaps?fieldManager=op&dryRun=All");
  CHECK(header(req, "Content-Type") == "application/json");
  CHECK(Json::parse(req.body)["metadata"]["name"] == "c");
}

TEST_CASE("Client: each patch type sends its content type; apply carries fieldManager and force", "[kube][client]") {
  Fixture f;
  f.transport->setResponder([](const http::Request&) { return Expected<http::Response>(http::Response{200, {}, "{}"}); });
  auto c = f.client();
  Json obj = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c1"}, {"namespace", "demo"}}}};
  REQUIRE(c->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kMerge, Json{{"data", {{"k", "v"}}}}));
  REQUIRE(c->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kJson, Json::array()));
  REQUIRE(c->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kStrategicMerge, Json::object()));
  REQUIRE(c->apply(resources::kConfigMaps, obj, "op", true));
  PatchOptions status;
  status.subresource = "status";
  REQUIRE(c->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kMerge, Json::object(), status));
  auto reqs = f.transport->requests();
  CHECK(header(reqs[0], "Content-Type") == "application/merge-patch+json");
  CHECK(header(reqs[1], "Content-Type") == "application/json-patch+json");
  CHECK(header(reqs[2], "Content-Type") == "application/strategic-merge-patch+json");
  CHECK(header(reqs[3], "Content-Type") == "application/apply-patch+yaml");
  CHECK(reqs[3].target == "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op&force=true");
  CHECK(reqs[4].target == "/api/v1/namespaces/demo/configmaps/c1/status");
}

TEST_CASE("Client: delete sends propagation policy and preconditions", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(200, R"({"kind":"Status","status":"Success"})");
  DeleteOptions d;
  d.propagationPolicy = "Background";
  d.preconditionUid = "u1";
  REQUIRE(f.client()->remove(resources::kConfigMaps, {"demo", "c1"}, d));
  auto req = f.transport->requests().at(0);
  CHECK(req.method == "DELETE");
  auto body = Json::parse(req.body);
  CHECK(body["propagationPolicy"] == "Background");
  CHECK(body["preconditions"]["uid"] == "u1");
}

TEST_CASE("Client: TokenRequest posts to the token subresource", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(201, R"({"kind":"TokenRequest","status":{"token":"t","expirationTimestamp":"2026-11-26T00:00:00Z"}})");
  Json body = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", {{"expirationSeconds", 3600}}}};
  auto tr = f.client()->createSubresource(resources::kServiceAccounts, {"istio-system", "reader"}, "token", body);
  REQUIRE(tr);
  CHECK(f.transport->requests().at(0).target == "/api/v1/namespaces/istio-system/serviceaccounts/reader/token");
}

TEST_CASE("Client: 429 is retried for any verb after the server's Retry-After", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(429, R"({"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down"})",
                       {{"Retry-After", "3"}});
  f.transport->enqueue(201, R"({"metadata":{"name":"c"}})");
  auto created = f.client()->create(resources::kConfigMaps, Json{{"metadata", {{"name", "c"}, {"namespace", "d"}}}});
  REQUIRE(created);
  REQUIRE(f.sleeps.size() == 1);
  CHECK(f.sleeps[0] == std::chrono::seconds(3));
}

TEST_CASE("Client: 5xx and connection failures retry GET with backoff but never a POST", "[kube][client]") {
  Fixture f;
  f.options.retry.maxRetries = 2;
  f.transport->enqueue(503, "");
  f.transport->enqueue(Expected<http::Response>(tl::unexpected(Error::transport("connection reset by peer"))));
  f.transport->enqueue(200, R"({"kind":"ConfigMap"})");
  REQUIRE(f.client()->get(resources::kConfigMaps, {"d", "c"}));
  CHECK(f.sleeps.size() == 2);
  CHECK(f.sleeps[1] > f.sleeps[0] / 2);  // grows (with jitter of at most 20 %)

  Fixture g;
  g.transport->enqueue(Expected<http::Response>(tl::unexpected(Error::transport("connection reset by peer"))));
  auto created = g.client()->create(resources::kConfigMaps, Json{{"metadata", {{"name", "c"}, {"namespace", "d"}}}});
  REQUIRE_FALSE(created);
  CHECK(created.error().kind() == ErrorKind::kTransport);
  CHECK(created.error().message() == "create ConfigMap d/c: connection reset by peer");
  CHECK(g.transport->requests().size() == 1);
}

TEST_CASE("Client: retries stop after maxRetries and the last error is returned", "[kube][client]") {
  Fixture f;
  f.options.retry.maxRetries = 3;
  f.transport->setResponder([](const http::Request&) { return Expected<http::Response>(http::Response{500, {}, ""}); });
  auto got = f.client()->get(resources::kConfigMaps, {"d", "c"});
  REQUIRE_FALSE(got);
  CHECK(got.error().isServerError());
  CHECK(f.transport->requests().size() == 4);
}

namespace {
// A token source whose file "rotated": the first read gives the old token, a re-read the new one.
class RotatedFileToken final : public TokenSource {
 public:
  Expected<std::string> token() override { return rotated_ ? "new-token" : "old-token"; }
  bool invalidate() override {
    rotated_ = true;
    ++invalidations;
    return true;
  }
  int invalidations = 0;

 private:
  bool rotated_ = false;
};
}  // namespace

TEST_CASE("Client: a 401 re-reads the token once and retries", "[kube][client]") {
  Fixture f;
  auto token = std::make_shared<RotatedFileToken>();
  f.config.token = token;
  f.transport->enqueue(401, R"({"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"})");
  f.transport->enqueue(201, R"({"metadata":{"name":"c"}})");
  REQUIRE(f.client()->create(resources::kConfigMaps, Json{{"metadata", {{"name", "c"}, {"namespace", "d"}}}}));
  auto reqs = f.transport->requests();
  REQUIRE(reqs.size() == 2);
  CHECK(header(reqs[0], "Authorization") == "Bearer old-token");
  CHECK(header(reqs[1], "Authorization") == "Bearer new-token");

  // A second 401 with the fresh token is final.
  f.transport->enqueue(401, R"({"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"})");
  f.transport->enqueue(401, R"({"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"})");
  auto denied = f.client()->get(resources::kConfigMaps, {"d", "c"});
  REQUIRE_FALSE(denied);
  CHECK(denied.error().isUnauthorized());
  CHECK(denied.error().message().find("token") == std::string::npos);
}

TEST_CASE("Client: basic auth when the user has a name and password", "[kube][client]") {
  Fixture f;
  f.config.token = nullptr;
  f.config.username = "admin";
  f.config.password = "pw";
  f.transport->enqueue(200, "{}");
  REQUIRE(f.client()->getPath("/version"));
  CHECK(header(f.transport->requests().at(0), "Authorization") == "Basic YWRtaW46cHc=");
}

TEST_CASE("Client: a patch with discardResult answers null on success and still reports a refusal with its Status",
          "[kube][client]") {
  Fixture f;
  Json obj = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c1"}, {"namespace", "demo"}}}};
  PatchOptions options;
  options.fieldManager = "op";
  options.discardResult = true;
  f.transport->enqueue(201, obj.dump());
  auto applied = f.client()->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kApply, obj, options);
  REQUIRE(applied);
  CHECK(applied->is_null());
  CHECK(f.transport->requests().at(0).target == "/api/v1/namespaces/demo/configmaps/c1?fieldManager=op");

  f.transport->enqueue(409, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Apply failed with 1 conflict","reason":"Conflict","code":409})");
  auto refused = f.client()->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kApply, obj, options);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().isConflict());
  CHECK(refused.error().message() == "apply ConfigMap demo/c1: Apply failed with 1 conflict");

  options.discardResult = false;
  f.transport->enqueue(200, obj.dump());
  auto decoded = f.client()->patch(resources::kConfigMaps, {"demo", "c1"}, PatchType::kApply, obj, options);
  REQUIRE(decoded);
  CHECK(*decoded == obj);
}

TEST_CASE("Client: a success body that is not JSON is a decode error that does not echo the body", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(200, "password=hunter2 <html>");
  auto got = f.client()->get(resources::kSecrets, {"d", "s"});
  REQUIRE_FALSE(got);
  CHECK(got.error().kind() == ErrorKind::kDecode);
  CHECK(got.error().message().find("hunter2") == std::string::npos);
}

TEST_CASE("Client: the QPS limit spaces requests out", "[kube][client]") {
  Fixture f;
  f.config.qps = 2;
  f.config.burst = 1;
  f.transport->setResponder([](const http::Request&) { return Expected<http::Response>(http::Response{200, {}, "{}"}); });
  auto c = f.client();
  for (int i = 0; i < 3; ++i) REQUIRE(c->getPath("/version"));
  REQUIRE(f.sleeps.size() == 2);
  CHECK(f.sleeps[0] == std::chrono::milliseconds(500));
}

TEST_CASE("Client: rest_client metrics count requests by code, method and host", "[kube][client][metrics]") {
  Fixture f;
  prometheus::Registry registry;
  f.options.metrics = makeClientMetrics(registry);
  f.transport->enqueue(200, "{}");
  f.transport->enqueue(404, kNotFound);
  auto c = f.client();
  REQUIRE(c->getPath("/version"));
  REQUIRE_FALSE(c->get(resources::kSecrets, {"d", "a"}));
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find(R"(rest_client_requests_total{code="200",host="fake.example:6443",method="GET"} 1)") != std::string::npos);
  CHECK(text.find(R"(rest_client_requests_total{code="404",host="fake.example:6443",method="GET"} 1)") != std::string::npos);
  CHECK(text.find(R"(rest_client_request_duration_seconds_count{host="fake.example:6443",verb="GET"} 2)") != std::string::npos);
}

TEST_CASE("Client: a server behind a path prefix gets the prefix once, from the transport", "[kube][client]") {
  Fixture f;
  f.transport->setPathPrefix("/k8s/clusters/c-1");
  f.transport->enqueue(200, "{}");
  REQUIRE(f.client()->getPath("/version"));
  // The transport prepends the endpoint's prefix when it sends; the client must not add it too.
  CHECK(f.transport->requests().at(0).target == "/version");
}

TEST_CASE("Client: getRaw returns status, headers and body of any answer, authenticated, once", "[kube][client]") {
  Fixture f;
  f.transport->enqueue(503, "busy", {{"Date", "Wed, 25 Nov 2026 10:00:00 GMT"}});
  auto c = f.client();
  auto r = c->getRaw("/version");
  REQUIRE(r);
  CHECK(r->status == 503);  // any status is an answer, not retried
  CHECK(r->body == "busy");
  CHECK(r->header("Date") == std::string_view("Wed, 25 Nov 2026 10:00:00 GMT"));
  auto sent = f.transport->requests();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].target == "/version");
  CHECK(header(sent[0], "Authorization") == "Bearer s3cr3t-token-value");
  CHECK(f.sleeps.empty());
}

TEST_CASE("Client: getRawAsync collects the streamed answer and reports once", "[kube][client]") {
  Fixture f;
  auto c = f.client();
  std::optional<Expected<http::Response>> got;
  c->getRawAsync("/version", std::chrono::milliseconds(250), [&](Expected<http::Response> r) { got = std::move(r); });
  auto stream = f.transport->lastStream();
  REQUIRE(stream);
  auto sent = f.transport->requests();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].timeout == std::chrono::milliseconds(250));
  CHECK(sent[0].idleTimeout == std::chrono::milliseconds(250));
  CHECK(header(sent[0], "Authorization") == "Bearer s3cr3t-token-value");
  CHECK_FALSE(got);
  stream->headers(200, {{"Date", "Wed, 25 Nov 2026 10:00:00 GMT"}});
  stream->data(R"({"gitVersion":)");
  stream->data(R"("v1.32.13"})");
  CHECK_FALSE(got);
  stream->close();
  REQUIRE(got);
  REQUIRE(*got);
  CHECK((*got)->status == 200);
  CHECK(Json::parse((*got)->body)["gitVersion"] == "v1.32.13");
  CHECK((*got)->header("Date"));
}

TEST_CASE("Client: getRawAsync reports a connection that broke before any answer as its error", "[kube][client]") {
  Fixture f;
  auto c = f.client();
  std::optional<Expected<http::Response>> got;
  c->getRawAsync("/version", {}, [&](Expected<http::Response> r) { got = std::move(r); });
  f.transport->lastStream()->close(Error::timeout("no answer within 5s"));
  REQUIRE(got);
  REQUIRE_FALSE(*got);
  CHECK(got->error().kind() == ErrorKind::kTimeout);
  CHECK(got->error().message() == "get /version: no answer within 5s");
}
