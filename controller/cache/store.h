// The informer's store: objects by namespace/name, with indexers and immutable snapshots.
//
// Readers never see an object change under them: objects are shared immutable pointers, and
// snapshot() hands out an immutable map that later writes do not touch (it is built lazily, at
// most once per change, so frequent writers with rare snapshot readers pay nothing extra). A relist
// replaces the whole content in one swap (replace()), so objects deleted while the watch was
// down disappear at once and readers see either the old or the new content, never a mix.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "controller/cache/object.h"

namespace rio::cache {

/// The values an object is indexed under (none, one or several). Must be pure.
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json& object)>;
/// Index name -> function.
using Indexers = std::map<std::string, IndexFunc>;

/// Indexes by metadata.namespace (cluster-scoped objects under "").
IndexFunc indexByNamespace();
/// Indexes by the value of one label (objects without it are not indexed).
IndexFunc indexByLabel(std::string labelKey);

/// An immutable point-in-time view of the store.
using Snapshot = std::map<ObjectKey, ObjectPtr>;
using SnapshotPtr = std::shared_ptr<const Snapshot>;

/// Thread-safety: reads may run concurrently with each other and with a writer (one
/// shared_mutex guards the map and the indexes). Writes must come from one writer at a time
/// (the informer's strand); they take the lock only for the moment of the change.
class Store {
 public:
  /// An empty store maintaining `indexers`.
  explicit Store(Indexers indexers = {});

  /// The object with `key`, or null.
  ObjectPtr get(const ObjectKey& key) const;
  /// Every object, ordered by namespace then name.
  std::vector<ObjectPtr> list() const;
  /// The objects of one namespace (a range of the ordered map, no index needed).
  std::vector<ObjectPtr> list(std::string_view ns) const;
  /// The objects indexed under `value` by the indexer `index`; empty when the index is unknown.
  std::vector<ObjectPtr> byIndex(const std::string& index, const std::string& value) const;
  /// The whole content as an immutable map that never changes under the caller. O(1) until the
  /// next write; the first call after a write copies the map of pointers (not the objects).
  SnapshotPtr snapshot() const;
  /// How many objects are cached.
  std::size_t size() const;

  /// Inserts or replaces the object under its key; returns the previous version, or null.
  ObjectPtr upsert(ObjectPtr object);
  /// Removes `key`; returns the removed object, or null when absent.
  ObjectPtr erase(const ObjectKey& key);

  /// What replace() changed, for event handlers: updated holds (old, new) pairs whose
  /// resourceVersion differs; objects with the same resourceVersion are not reported.
  struct ReplaceResult {
    std::vector<ObjectPtr> added;
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;
    std::vector<ObjectPtr> deleted;
  };
  /// Swaps in `fresh` as the whole content (the end of a relist) in one step.
  ReplaceResult replace(Snapshot fresh);

 private:
  // index name -> value -> keys
  using Index = std::unordered_map<std::string, std::set<ObjectKey>>;
  using Indices = std::map<std::string, Index>;

  void addToIndex(Indices& indices, const ObjectKey& key, const nlohmann::json& object) const;
  void removeFromIndexLocked(const ObjectKey& key, const nlohmann::json& object);

  const Indexers indexers_;
  mutable std::shared_mutex mu_;  // guards objects_, indices_, snapshot_
  Snapshot objects_;
  Indices indices_;
  mutable SnapshotPtr snapshot_;  // cached view of objects_; reset by every write
};

}  // namespace rio::cache
