#include "controller/runtime/reconciler.h"

#include "controller/kube/client.h"

namespace rio::runtime {

Request Request::of(const nlohmann::json& object) {
  auto key = kube::ObjectKey::of(object);
  return Request{std::move(key.ns), std::move(key.name)};
}

namespace {

class FuncReconciler final : public Reconciler {
 public:
  explicit FuncReconciler(ReconcileFunc fn) : fn_(std::move(fn)) {}
  ReconcileOutcome reconcile(const ReconcileContext& ctx, const Request& request) override {
    return fn_(ctx, request);
  }

 private:
  ReconcileFunc fn_;
};

}  // namespace

ReconcilerPtr reconcilerFunc(ReconcileFunc fn) {
  return std::make_shared<FuncReconciler>(std::move(fn));
}

}  // namespace rio::runtime
