// rio-conformance: the API semantics the operator depends on, exercised through the project's
// own client against an in-process kube-testenv (default) or any cluster (--kubeconfig).
// Prints one line per case; exits 1 when a case failed, 2 on a usage or start-up error.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "controller/core/io_runtime.h"
#include "controller/core/logging.h"
#include "test/conformance/suite.h"

namespace {

constexpr const char* kUsage =
    R"(usage: rio-conformance [--kubeconfig FILE [--context NAME]] [--fixtures DIR]
                       [--list] [CASE-FILTER ...]

Runs the conformance cases against an in-process kube-testenv, or against the cluster of a
kubeconfig. Every case works in its own namespace (rio-conf-<case>-<random>) and deletes what it
created. Cases that need kube-testenv's fault injection are skipped elsewhere, with the reason.
A CASE-FILTER selects the cases whose name contains it (e.g. "watch:" or "errors: 409").
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace rio;
  std::string kubeconfig, context, fixturesDir = RIO_FIXTURES_DIR;
  bool list = false;
  std::vector<std::string> filters;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n" << kUsage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--kubeconfig") {
      kubeconfig = value();
    } else if (a == "--context") {
      context = value();
    } else if (a == "--fixtures") {
      fixturesDir = value();
    } else if (a == "--list") {
      list = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "unknown flag " << a << "\n" << kUsage;
      return 2;
    } else {
      filters.push_back(a);
    }
  }
  if (!context.empty() && kubeconfig.empty()) {
    std::cerr << "--context needs --kubeconfig\n";
    return 2;
  }
  log::configure(log::Level::kError);

  IoRuntime io(2);
  auto target = kubeconfig.empty() ? conformance::Target::inProcess(io)
                                   : conformance::Target::fromKubeconfig(io, kubeconfig, context);
  if (!target) {
    std::cerr << "cannot reach the target: " << target.error().message() << "\n";
    return 2;
  }
  conformance::Fixtures fixtures(fixturesDir);
  conformance::Suite suite(**target, fixtures);
  conformance::addDiscoveryCases(suite);
  conformance::addCrudCases(suite);
  conformance::addMetadataCases(suite);
  conformance::addErrorCases(suite);
  conformance::addPatchCases(suite);
  conformance::addListWatchCases(suite);
  conformance::addStatusCases(suite);
  conformance::addAuthCases(suite);
  conformance::addTestenvCases(suite);

  if (list) {
    for (const auto& c : suite.cases()) std::cout << c.name << "  — " << c.description << "\n";
    return 0;
  }
  std::cout << "target: " << (*target)->description() << ", server "
            << (*target)->version().gitVersion
            << ((*target)->hasAdminEndpoint() ? " (kube-testenv admin endpoint available)" : "")
            << std::endl;
  auto results = suite.run(filters);
  int pass = 0, fail = 0, skip = 0;
  for (const auto& r : results) {
    switch (r.outcome) {
      case conformance::Outcome::kPass:
        ++pass;
        break;
      case conformance::Outcome::kFail:
        ++fail;
        break;
      case conformance::Outcome::kSkip:
        ++skip;
        break;
    }
  }
  std::cout << pass << " passed, " << fail << " failed, " << skip << " skipped" << std::endl;
  target->reset();
  io.stop();
  return fail ? 1 : (results.empty() ? 2 : 0);
}
