#include "reconcilers/metrics.h"

#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

using namespace rio::reconcilers;

TEST_CASE("OperatorMetrics: series appear at zero per cluster and leave with it", "[metrics]") {
  prometheus::Registry registry;
  OperatorMetrics m(registry);
  m.setReachable("cn-beijing", true);
  m.countApply("cn-beijing", "Deployment", "created");
  auto text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find(R"(remote_istio_cluster_reachable{cluster="cn-beijing"} 1)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_ready{cluster="cn-beijing"} 0)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="created"} 1)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="error"} 0)") != std::string::npos);

  m.setReady("cn-hangzhou", true);
  m.forgetCluster("cn-beijing");
  text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find("cn-beijing") == std::string::npos);
  CHECK(text.find(R"(remote_istio_ready{cluster="cn-hangzhou"} 1)") != std::string::npos);

  // A cluster that comes back starts from zero again, every result of a kind with it.
  m.countApply("cn-beijing", "Deployment", "updated");
  m.countApply("cn-beijing-2", "Deployment", "created");
  text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="updated"} 1)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="created"} 0)") != std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing",kind="Deployment",result="error"} 0)") != std::string::npos);
  m.forgetCluster("cn-beijing");
  m.countApply("cn-beijing-2", "Deployment", "created");
  text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK(text.find(R"(cluster="cn-beijing",)") == std::string::npos);
  CHECK(text.find(R"(remote_istio_remote_apply_total{cluster="cn-beijing-2",kind="Deployment",result="created"} 2)") != std::string::npos);
}
