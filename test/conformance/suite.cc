#include "test/conformance/suite.h"

#include <iostream>
#include <random>
#include <thread>

namespace rio::conformance {
namespace {

std::string randomSuffix() {
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<int> pick(0, 35);
  std::string s;
  for (int i = 0; i < 5; ++i) s += alphabet[pick(gen)];
  return s;
}

const char* label(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kSkip:
      return "SKIP";
  }
  return "?";
}

}  // namespace

std::string slugOf(std::string_view caseName) {
  std::string out;
  for (char c : caseName) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.size() > 20) out.resize(20);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "case" : out;
}

Context::Context(Target& target, const Fixtures& fixtures, std::string caseSlug)
    : target_(target), fixtures_(fixtures), slug_(std::move(caseSlug)), suffix_(randomSuffix()) {}

Context::~Context() {
  for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) {
    try {
      (*it)();
    } catch (...) {
      // A cleanup that fails must not hide the case's result; the namespace goes anyway.
    }
  }
}

const std::string& Context::ns() {
  if (ns_) return *ns_;
  std::string name = "rio-conf-" + slug_ + "-" + suffix_;
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  must(client().create(kube::resources::kNamespaces, ns), "create the case namespace " + name);
  ns_ = name;
  kube::ClientPtr admin = target_.admin();
  defer([admin, name] { (void)admin->remove(kube::resources::kNamespaces, {"", name}); });
  return *ns_;
}

std::string Context::unique(std::string_view base) const {
  return std::string(base) + "-" + suffix_;
}

void Context::defer(std::function<void()> fn) { cleanups_.push_back(std::move(fn)); }

void Context::deleteLater(const kube::Resource& resource, const kube::ObjectKey& key) {
  kube::ClientPtr admin = target_.admin();
  defer([admin, resource, key] {
    auto current = admin->getIfExists(resource, key);
    if (!current || !*current) return;
    if ((**current)["metadata"].contains("finalizers")) {
      (void)admin->patch(resource, key, kube::PatchType::kMerge,
                         {{"metadata", {{"finalizers", nullptr}}}});
    }
    (void)admin->remove(resource, key);
  });
}

void Context::fail(const std::string& reason) const { throw CaseFailed{reason}; }

void Context::skip(const std::string& reason) const { throw CaseSkipped{reason}; }

void Context::eventually(const std::function<bool()>& condition, const std::string& what,
                         std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      fail(what + " (not within " + std::to_string(timeout.count()) + " ms)");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string Context::describe(const Error& error) {
  std::string out = std::string(toString(error.kind()));
  if (error.code()) out += " " + std::to_string(error.code());
  if (!error.reason().empty()) out += " " + std::string(error.reason());
  return out + ": " + error.message();
}

std::vector<Result> Suite::run(const std::vector<std::string>& filters) {
  std::vector<Result> results;
  for (const auto& c : cases_) {
    bool selected = filters.empty();
    for (const auto& f : filters) selected = selected || c.name.find(f) != std::string::npos;
    if (!selected) continue;
    Result r = runOne(c);
    std::cout << label(r.outcome) << "  " << r.name;
    if (!r.reason.empty()) std::cout << "  — " << r.reason;
    std::cout << "  (" << r.took.count() << " ms)" << std::endl;
    results.push_back(std::move(r));
  }
  return results;
}

Result Suite::runOne(const Case& c) {
  Result r;
  r.name = c.name;
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](Outcome o, std::string reason) {
    r.outcome = o;
    r.reason = std::move(reason);
    r.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return r;
  };
  if (c.needs == Needs::kAdminEndpoint && !target_.hasAdminEndpoint())
    return finish(Outcome::kSkip, "needs kube-testenv's admin endpoint (fault injection), which " +
                                      target_.description() + " does not have");
  if (c.needs == Needs::kInProcess && !target_.cluster())
    return finish(Outcome::kSkip,
                  "needs the in-process kube-testenv (its clock or Cluster object)");
  try {
    Context ctx(target_, fixtures_, slugOf(c.name));
    c.run(ctx);
  } catch (const CaseFailed& f) {
    return finish(Outcome::kFail, f.reason);
  } catch (const CaseSkipped& s) {
    return finish(Outcome::kSkip, s.reason);
  } catch (const std::exception& e) {
    return finish(Outcome::kFail, std::string("exception: ") + e.what());
  }
  return finish(Outcome::kPass, "");
}

}  // namespace rio::conformance
