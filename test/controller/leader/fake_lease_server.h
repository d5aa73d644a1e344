// An in-memory store of coordination.k8s.io/v1 Leases that answers the REST calls of leader
// election as kube-apiserver does (GET 404, POST 409 AlreadyExists, PUT 409 Conflict on a stale
// resourceVersion), for FakeTransport responders. Several clients (candidates) may share one.
// A "down" server answers every call with a transport error, as an unreachable API server would.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/http/message.h"
#include "test/support/fake_transport.h"

namespace rio::testing {

class FakeLeaseServer {
 public:
  using Json = nlohmann::json;

  /// Answers one request; unknown paths get 404.
  Expected<http::Response> handle(const http::Request& r) {
    std::lock_guard lock(mu_);
    if (down_) return fail(Error::transport("connection refused"));
    const std::string prefix = "/apis/coordination.k8s.io/v1/namespaces/";
    if (r.target.rfind(prefix, 0) != 0) return status(404, "NotFound", "no such path");
    std::string rest = r.target.substr(prefix.size());
    auto q = rest.find('?');
    if (q != std::string::npos) rest = rest.substr(0, q);
    auto slash = rest.find('/');
    std::string ns = rest.substr(0, slash);
    std::string tail = rest.substr(slash + 1);  // "leases" or "leases/<name>"
    std::string name = tail.size() > 7 ? tail.substr(7) : "";
    ++requests_;
    if (r.method == "GET") {
      auto it = leases_.find(ns + "/" + name);
      if (it == leases_.end())
        return status(404, "NotFound", "leases.coordination.k8s.io \"" + name + "\" not found");
      return ok(200, it->second);
    }
    Json body = Json::parse(r.body, nullptr, false);
    if (r.method == "POST") {
      name = body["metadata"].value("name", "");
      if (leases_.count(ns + "/" + name))
        return status(409, "AlreadyExists",
                      "leases.coordination.k8s.io \"" + name + "\" already exists");
      body["metadata"]["namespace"] = ns;
      body["metadata"]["resourceVersion"] = std::to_string(++rv_);
      body["metadata"]["uid"] = "uid-" + name;
      leases_[ns + "/" + name] = body;
      ++writes_;
      return ok(201, body);
    }
    if (r.method == "PUT") {
      auto it = leases_.find(ns + "/" + name);
      if (it == leases_.end()) return status(404, "NotFound", "not found");
      if (body["metadata"].value("resourceVersion", "") !=
          it->second["metadata"].value("resourceVersion", "")) {
        return status(409, "Conflict",
                      "Operation cannot be fulfilled on leases.coordination.k8s.io \"" + name +
                          "\": the object has been modified; please apply your changes to the "
                          "latest version and try again");
      }
      body["metadata"]["resourceVersion"] = std::to_string(++rv_);
      it->second = body;
      ++writes_;
      return ok(200, body);
    }
    return status(405, "MethodNotAllowed", "method not allowed");
  }

  /// A responder for a FakeTransport (the server must outlive the transport).
  FakeTransport::Responder responder() {
    return [this](const http::Request& r) { return handle(r); };
  }

  /// The stored lease, if any.
  std::optional<Json> lease(const std::string& ns, const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = leases_.find(ns + "/" + name);
    if (it == leases_.end()) return std::nullopt;
    return it->second;
  }
  /// The spec of the stored lease (null when absent).
  Json spec(const std::string& ns, const std::string& name) const {
    auto l = lease(ns, name);
    return l ? (*l)["spec"] : Json();
  }
  /// Stores or replaces a lease as another client would (new resourceVersion).
  void put(const std::string& ns, const std::string& name, Json spec) {
    std::lock_guard lock(mu_);
    Json& l = leases_[ns + "/" + name];
    l["apiVersion"] = "coordination.k8s.io/v1";
    l["kind"] = "Lease";
    l["metadata"]["name"] = name;
    l["metadata"]["namespace"] = ns;
    l["metadata"]["resourceVersion"] = std::to_string(++rv_);
    l["spec"] = std::move(spec);
  }
  void setDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  int writes() const {
    std::lock_guard lock(mu_);
    return writes_;
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  static Expected<http::Response> ok(int code, const Json& body) {
    return http::Response{code, {{"Content-Type", "application/json"}}, body.dump()};
  }
  static Expected<http::Response> status(int code, const std::string& reason,
                                         const std::string& message) {
    Json s{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
           {"status", "Failure"}, {"message", message}, {"reason", reason},
           {"code", code}};
    return http::Response{code, {{"Content-Type", "application/json"}}, s.dump()};
  }

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Json> leases_;
  int rv_ = 100;
  int writes_ = 0;
  int requests_ = 0;
  bool down_ = false;
};

}  // namespace rio::testing
