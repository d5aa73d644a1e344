#include "controller/cache/store.h"

#include <mutex>

namespace rio::cache {

IndexFunc indexByNamespace() {
  return [](const nlohmann::json& object) {
    return std::vector<std::string>{ObjectKey::of(object).ns};
  };
}

IndexFunc indexByLabel(std::string labelKey) {
  return [labelKey = std::move(labelKey)](const nlohmann::json& object) {
    const std::string* v = labelOf(object, labelKey);
    return v ? std::vector<std::string>{*v} : std::vector<std::string>{};
  };
}

Store::Store(Indexers indexers) : indexers_(std::move(indexers)) {
  for (const auto& [name, fn] : indexers_) indices_[name];
}

ObjectPtr Store::get(const ObjectKey& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, obj] : objects_) out.push_back(obj);
  return out;
}

std::vector<ObjectPtr> Store::list(std::string_view ns) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  for (auto it = objects_.lower_bound(ObjectKey{std::string(ns), ""});
       it != objects_.end() && it->first.ns == ns; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Store::byIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indices_.find(index);
  if (idx == indices_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  out.reserve(keys->second.size());
  for (const auto& key : keys->second) {
    if (auto it = objects_.find(key); it != objects_.end()) out.push_back(it->second);
  }
  return out;
}

SnapshotPtr Store::snapshot() const {
  {
    std::shared_lock lock(mu_);
    if (snapshot_) return snapshot_;
  }
  std::unique_lock lock(mu_);
  if (!snapshot_) snapshot_ = std::make_shared<const Snapshot>(objects_);
  return snapshot_;
}

std::size_t Store::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

void Store::addToIndex(Indices& indices, const ObjectKey& key, const nlohmann::json& object) const {
  for (const auto& [name, fn] : indexers_) {
    for (auto& value : fn(object)) indices[name][std::move(value)].insert(key);
  }
}

void Store::removeFromIndexLocked(const ObjectKey& key, const nlohmann::json& object) {
  for (const auto& [name, fn] : indexers_) {
    auto& index = indices_[name];
    for (const auto& value : fn(object)) {
      auto it = index.find(value);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
}

ObjectPtr Store::upsert(ObjectPtr object) {
  ObjectKey key = ObjectKey::of(*object);
  std::unique_lock lock(mu_);
  snapshot_.reset();
  auto [it, inserted] = objects_.try_emplace(key, object);
  ObjectPtr old;
  if (!inserted) {
    old = std::move(it->second);
    removeFromIndexLocked(key, *old);
    it->second = object;
  }
  addToIndex(indices_, key, *object);
  return old;
}

ObjectPtr Store::erase(const ObjectKey& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  snapshot_.reset();
  ObjectPtr old = std::move(it->second);
  objects_.erase(it);
  removeFromIndexLocked(key, *old);
  return old;
}

Store::ReplaceResult Store::replace(Snapshot fresh) {
  // Only the single writer changes objects_, so reading it here without the lock is safe; the
  // diff and the new indexes are built before the lock is taken for the swap.
  ReplaceResult result;
  auto o = objects_.begin();
  auto n = fresh.begin();
  while (o != objects_.end() || n != fresh.end()) {
    if (n == fresh.end() || (o != objects_.end() && o->first < n->first)) {
      result.deleted.push_back(o->second);
      ++o;
    } else if (o == objects_.end() || n->first < o->first) {
      result.added.push_back(n->second);
      ++n;
    } else {
      if (resourceVersionOf(*o->second) != resourceVersionOf(*n->second)) {
        result.updated.emplace_back(o->second, n->second);
      } else {
        n->second = o->second;  // unchanged: keep the pointer readers may already hold
      }
      ++o;
      ++n;
    }
  }
  Indices indices;
  for (const auto& [name, fn] : indexers_) indices[name];
  for (const auto& [key, obj] : fresh) addToIndex(indices, key, *obj);

  Snapshot old;
  Indices oldIndices;
  {
    std::unique_lock lock(mu_);
    old.swap(objects_);
    objects_.swap(fresh);
    oldIndices.swap(indices_);
    indices_.swap(indices);
    snapshot_.reset();
  }
  // The previous content is released here, outside the lock.
  return result;
}

}  // namespace rio::cache
