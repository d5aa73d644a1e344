#include "controller/runtime/builder.h"

#include <algorithm>
#include <cctype>

namespace rio::runtime {

Builder::Builder(std::string name, ExecutorPtr executor)
    : name_(std::move(name)), executor_(std::move(executor)) {}

Builder& Builder::forInformer(cache::InformerPtr primary, std::vector<Predicate> predicates) {
  if (!primary) {
    problems_.push_back("forInformer: the informer is null");
  } else if (primary_) {
    problems_.push_back("forInformer: called twice (one primary resource per controller)");
  } else {
    primary_ = std::move(primary);
    primaryPredicates_ = std::move(predicates);
  }
  return *this;
}

Builder& Builder::owns(cache::InformerPtr children, OwnerMapping mapping,
                       std::vector<Predicate> predicates) {
  if (!children) {
    problems_.push_back("owns: the informer is null");
    return *this;
  }
  sources_.push_back(
      PendingSource{std::move(children), nullptr, std::move(mapping), std::move(predicates)});
  return *this;
}

Builder& Builder::watches(cache::InformerPtr source, MapFunc map,
                          std::vector<Predicate> predicates) {
  if (!source || !map) {
    problems_.push_back("watches: the informer or the mapping function is null");
    return *this;
  }
  sources_.push_back(PendingSource{std::move(source), std::move(map), {}, std::move(predicates)});
  return *this;
}

Builder& Builder::withEventFilter(Predicate predicate) {
  filters_.push_back(std::move(predicate));
  return *this;
}

Builder& Builder::withOptions(ControllerOptions options) {
  options_ = std::move(options);
  return *this;
}

Expected<ControllerPtr> Builder::build(ReconcilerPtr reconciler) {
  if (!primary_) problems_.push_back("forInformer: a primary resource is required");
  if (!reconciler) problems_.push_back("build: the reconciler is null");
  if (!executor_) problems_.push_back("build: the executor is null");
  if (!problems_.empty()) {
    std::string message = "controller " + name_ + ":";
    for (const auto& p : problems_) message += " " + p + ";";
    message.pop_back();
    return fail(Error::invalid(message));
  }
  const kube::Resource& primary = primary_->resource();
  std::string name = name_;
  if (name.empty()) {
    name = primary.kind;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
  }
  auto controller = Controller::create(name, std::move(reconciler), executor_, options_);

  auto withFilters = [&](std::vector<Predicate> ps) {
    ps.insert(ps.end(), filters_.begin(), filters_.end());
    return ps;
  };
  controller->watch(primary_, requestForObject(), withFilters(primaryPredicates_),
                    unobservedChangesFirst());
  for (auto& s : sources_) {
    MapFunc map = s.map;
    if (!map) {
      switch (s.owner.kind) {
        case OwnerMapping::Kind::kLabels:
          map = requestForOwnerLabels(s.owner.nameLabel, s.owner.namespaceLabel);
          break;
        case OwnerMapping::Kind::kAnnotation:
          map = requestForOwnerAnnotation(s.owner.annotation);
          break;
        case OwnerMapping::Kind::kOwnerReference:
          map = requestForOwnerReference(primary.group, primary.kind, s.owner.controllerOnly,
                                         primary.namespaced);
          break;
      }
    }
    controller->watch(s.informer, std::move(map), withFilters(std::move(s.predicates)));
  }
  return controller;
}

}  // namespace rio::runtime
