#include "test/testenv/merge_typed.h"

#include <map>
#include <set>
#include <vector>

namespace rio::testenv::typed {
namespace {

using fieldpath::FieldSet;
using fieldpath::Path;
using fieldpath::PathElement;
using nlohmann::json;
using schema::Kind;
using schema::ListType;
using schema::Type;

enum class Shape { kLeaf, kMap, kList };

struct Resolved {
  Shape shape = Shape::kLeaf;
  bool atomic = false;
};

bool fitsMap(const json* v) { return v == nullptr || v->is_null() || v->is_object(); }
bool fitsList(const json* v) { return v == nullptr || v->is_null() || v->is_array(); }

// How a node is walked given its type and the values on both sides. A value that does not fit
// its type (a string where an object belongs) is handled as a leaf, like a type change.
Resolved resolve(const Type* t, const json* a, const json* b) {
  switch (t->kind) {
    case Kind::kScalar:
      return {};
    case Kind::kMap:
      if (fitsMap(a) && fitsMap(b)) return {Shape::kMap, t->atomic};
      return {};
    case Kind::kList:
      if (fitsList(a) && fitsList(b)) return {Shape::kList, t->listType == ListType::kAtomic};
      return {};
    case Kind::kUntyped: {
      const bool anyObject = (a && a->is_object()) || (b && b->is_object());
      if (anyObject && fitsMap(a) && fitsMap(b)) return {Shape::kMap, false};
      return {};  // scalars, and lists (atomic when untyped)
    }
  }
  return {};
}

std::set<std::string> unionKeys(const json* a, const json* b) {
  std::set<std::string> keys;
  for (const json* obj : {a, b}) {
    if (obj == nullptr) continue;
    for (auto it = obj->begin(); it != obj->end(); ++it) keys.insert(it.key());
  }
  return keys;
}

const json* find(const json* obj, const std::string& key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  return it == obj->end() ? nullptr : &*it;
}

void setError(std::string* error, const Path& path, const std::string& message) {
  if (error == nullptr) return;
  const std::string where = fieldpath::toString(path);
  *error = where.empty() ? message : where + ": " + message;
}

// A list's items by path element, in list order. Repeated keys keep the first item unless
// `allowDuplicates` is false, which makes them an error.
struct Indexed {
  std::vector<PathElement> order;
  std::map<PathElement, const json*> items;

  const json* get(const PathElement& pe) const {
    auto it = items.find(pe);
    return it == items.end() ? nullptr : it->second;
  }
  bool has(const PathElement& pe) const { return items.count(pe) > 0; }
};

std::optional<Indexed> indexList(const Type* t, const json* list, bool allowDuplicates,
                                 const Path& path, std::string* error) {
  Indexed out;
  if (list == nullptr || !list->is_array()) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    std::string why;
    auto pe = itemPathElement(t, item, &why);
    if (!pe) {
      setError(error, path, "element " + std::to_string(i) + ": " + why);
      return std::nullopt;
    }
    if (out.has(*pe)) {
      if (!allowDuplicates) {
        setError(error, path, "duplicate entries for key " + pe->toString());
        return std::nullopt;
      }
      continue;
    }
    out.items.emplace(*pe, &item);
    out.order.push_back(*pe);
  }
  return out;
}

// ---- toFieldSet ----

bool walkFieldSet(const json& v, const Type* t, Path& path, FieldSet& set, bool strict,
                  std::string* error) {
  const Resolved r = resolve(t, &v, &v);
  if (r.shape == Shape::kLeaf) {
    set.insert(path);
    return true;
  }
  if (r.atomic) {
    set.insert(path);
    return true;
  }
  if (r.shape == Shape::kMap) {
    if (!v.is_object()) return true;  // null: nothing set
    for (auto it = v.begin(); it != v.end(); ++it) {
      const schema::Child c = schema::childOf(t, it.key());
      path.push_back(PathElement::ofField(it.key()));
      if (!walkFieldSet(it.value(), c.type, path, set, strict, error)) return false;
      if (!c.named) set.insert(path);
      path.pop_back();
    }
    return true;
  }
  if (!v.is_array()) return true;
  auto indexed = indexList(t, &v, /*allowDuplicates=*/!strict, path, strict ? error : nullptr);
  if (!indexed) {
    if (strict) return false;
    set.insert(path);  // cannot key the items: own the list as a whole
    return true;
  }
  const Type* item = schema::itemOf(t);
  for (const auto& pe : indexed->order) {
    path.push_back(pe);
    if (!walkFieldSet(*indexed->get(pe), item, path, set, strict, error)) return false;
    set.insert(path);
    path.pop_back();
  }
  return true;
}

// ---- compare ----

void compareLeaf(const json* l, const json* r, const Path& path, Comparison& c) {
  if (l == nullptr) {
    c.added.insert(path);
  } else if (r == nullptr) {
    c.removed.insert(path);
  } else if (*l != *r) {
    c.modified.insert(path);
  }
}

void compareNode(const json* l, const json* r, const Type* t, Path& path, Comparison& c) {
  const Resolved res = resolve(t, l, r);
  bool leaf = res.shape == Shape::kLeaf || res.atomic;
  if (!leaf && res.shape == Shape::kMap) {
    const json* lm = (l && l->is_object()) ? l : nullptr;
    const json* rm = (r && r->is_object()) ? r : nullptr;
    // Both empty or null: a leaf, which keeps the empty/null distinction.
    if ((!lm || lm->empty()) && (!rm || rm->empty())) {
      leaf = true;
    } else {
      for (const auto& key : unionKeys(lm, rm)) {
        path.push_back(PathElement::ofField(key));
        compareNode(find(lm, key), find(rm, key), schema::childOf(t, key).type, path, c);
        path.pop_back();
      }
    }
  } else if (!leaf && res.shape == Shape::kList) {
    const json* ll = (l && l->is_array()) ? l : nullptr;
    const json* rl = (r && r->is_array()) ? r : nullptr;
    auto li = indexList(t, ll, true, path, nullptr);
    auto ri = indexList(t, rl, true, path, nullptr);
    const bool bothEmpty = (!ll || ll->empty()) && (!rl || rl->empty());
    // Empty on both sides, or items without keys: compare the list as a whole.
    if (bothEmpty || !li || !ri) {
      leaf = true;
    } else {
      std::set<PathElement> pes(li->order.begin(), li->order.end());
      pes.insert(ri->order.begin(), ri->order.end());
      for (const auto& pe : pes) {
        path.push_back(pe);
        compareNode(li->get(pe), ri->get(pe), schema::itemOf(t), path, c);
        path.pop_back();
      }
    }
  }
  if (leaf) {
    compareLeaf(l, r, path, c);
    return;
  }
  // A non-leaf present on one side only is itself added or removed.
  if (l == nullptr) {
    c.added.insert(path);
  } else if (r == nullptr) {
    c.removed.insert(path);
  }
}

// ---- merge ----

std::optional<json> mergeNode(const json* l, const json* r, const Type* t, Path& path,
                              std::string* error, bool& failed);

std::optional<json> mergeList(const json* l, const json* r, const Type* t, Path& path,
                              std::string* error, bool& failed) {
  const json* ll = (l && l->is_array()) ? l : nullptr;
  const json* rl = (r && r->is_array()) ? r : nullptr;
  auto ri = indexList(t, rl, /*allowDuplicates=*/false, path, error);
  if (!ri) {
    failed = true;
    return std::nullopt;
  }
  auto li = indexList(t, ll, /*allowDuplicates=*/true, path, nullptr);
  if (!li) return *r;  // live items cannot be keyed: config replaces the list

  const Type* itemType = schema::itemOf(t);
  json out = json::array();
  auto emit = [&](const PathElement& pe, const json* lc, const json* rc) {
    path.push_back(pe);
    auto merged = mergeNode(lc, rc, itemType, path, error, failed);
    path.pop_back();
    if (merged) out.push_back(std::move(*merged));
  };

  // Shared items (in both lists) follow config's order; live-only items keep their place
  // relative to them (structured-merge-diff's mergingWalker.visitListItems).
  std::vector<PathElement> sharedOrder;
  for (const auto& pe : ri->order) {
    if (li->has(pe)) sharedOrder.push_back(pe);
  }
  std::size_t sharedNext = 0;
  const PathElement* nextShared = nullptr;
  auto popShared = [&] {
    nextShared = sharedNext < sharedOrder.size() ? &sharedOrder[sharedNext++] : nullptr;
  };
  popShared();

  std::set<PathElement> mergedRHS;
  const std::size_t lLen = li->order.size();
  const std::size_t rLen = ri->order.size();
  std::size_t lI = 0;
  std::size_t rI = 0;
  while ((lI < lLen || rI < rLen) && !failed) {
    if (lI < lLen && rI < rLen) {
      const PathElement& pe = li->order[lI];
      if (pe == ri->order[rI]) {
        mergedRHS.insert(pe);
        emit(pe, li->get(pe), ri->get(pe));
        ++lI;
        ++rI;
        popShared();
        continue;
      }
      if (ri->has(pe) && nextShared != nullptr && !(*nextShared == pe)) {
        ++lI;  // a shared item, but not the one due now
        continue;
      }
    }
    if (lI < lLen) {
      const PathElement& pe = li->order[lI];
      if (!ri->has(pe)) {
        emit(pe, li->get(pe), nullptr);
        ++lI;
        continue;
      }
      if (mergedRHS.count(pe)) {
        ++lI;
        continue;
      }
    }
    if (rI < rLen) {
      const PathElement pe = ri->order[rI];
      mergedRHS.insert(pe);
      emit(pe, li->get(pe), ri->get(pe));
      ++rI;
      if (nextShared != nullptr && *nextShared == pe) popShared();
    }
  }
  if (failed) return std::nullopt;
  return out;
}

std::optional<json> mergeNode(const json* l, const json* r, const Type* t, Path& path,
                              std::string* error, bool& failed) {
  if (r == nullptr) {
    if (l == nullptr) return std::nullopt;
    return *l;
  }
  const Resolved res = resolve(t, l, r);
  if (!res.atomic && res.shape == Shape::kMap) {
    const json* lm = (l && l->is_object()) ? l : nullptr;
    const json* rm = r->is_object() ? r : nullptr;
    if ((lm && !lm->empty()) || (rm && !rm->empty())) {
      json out = json::object();
      for (const auto& key : unionKeys(lm, rm)) {
        path.push_back(PathElement::ofField(key));
        auto merged = mergeNode(find(lm, key), find(rm, key), schema::childOf(t, key).type, path,
                                error, failed);
        path.pop_back();
        if (failed) return std::nullopt;
        if (merged) out[key] = std::move(*merged);
      }
      return out;
    }
  } else if (!res.atomic && res.shape == Shape::kList) {
    const bool lEmpty = !(l && l->is_array() && !l->empty());
    const bool rEmpty = !(r->is_array() && !r->empty());
    if (!lEmpty || !rEmpty) return mergeList(l, r, t, path, error, failed);
  }
  // A leaf (scalar, atomic, or empty on both sides): config wins; an explicit null unsets the
  // field (the typed object drops it).
  if (r->is_null()) return std::nullopt;
  return *r;
}

// ---- removeItems ----

std::optional<json> removeNode(const json& v, const FieldSet& toRemove, const Type* t) {
  const Resolved res = resolve(t, &v, &v);
  if (res.shape == Shape::kLeaf) return v;
  if (res.shape == Shape::kMap) {
    if (!v.is_object() || v.empty() || res.atomic) return std::nullopt;
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      const PathElement pe = PathElement::ofField(it.key());
      if (toRemove.hasMember(pe)) continue;
      if (const FieldSet* below = toRemove.childAt(pe)) {
        auto kept = removeNode(it.value(), *below, schema::childOf(t, it.key()).type);
        if (kept) out[it.key()] = std::move(*kept);
      } else {
        out[it.key()] = it.value();
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  if (!v.is_array() || v.empty() || res.atomic) return std::nullopt;
  json out = json::array();
  for (const auto& item : v) {
    auto pe = itemPathElement(t, item);
    if (!pe) {
      out.push_back(item);
      continue;
    }
    if (toRemove.hasMember(*pe)) continue;
    if (const FieldSet* below = toRemove.childAt(*pe)) {
      auto kept = removeNode(item, *below, schema::itemOf(t));
      if (kept) out.push_back(std::move(*kept));
    } else {
      out.push_back(item);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<PathElement> itemPathElement(const Type* list, const json& item, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<PathElement> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (list == nullptr || list->kind != Kind::kList || list->listType == ListType::kAtomic) {
    return fail("invalid indexing of non-associative list");
  }
  if (list->listType == ListType::kMap && !list->keys.empty()) {
    if (item.is_null()) return fail("associative list with keys may not have a null element");
    if (!item.is_object()) {
      return fail("associative list with keys may not have non-map elements");
    }
    PathElement::KeyFields fields;
    for (const auto& key : list->keys) {
      if (auto it = item.find(key); it != item.end()) {
        fields.emplace_back(key, *it);
      } else if (list->keyDefaults.is_object() && list->keyDefaults.contains(key)) {
        fields.emplace_back(key, list->keyDefaults.at(key));
      } else {
        return fail("associative list with keys has an element that omits key field \"" + key +
                    "\" (and doesn't have default value)");
      }
    }
    return PathElement::ofKey(std::move(fields));
  }
  if (item.is_object())
    return fail("associative list without keys has an element that's a map type");
  if (item.is_array()) return fail("not supported: associative list with lists as elements");
  if (item.is_null()) {
    return fail("associative list without keys has an element that's an explicit null");
  }
  return PathElement::ofValue(item);
}

std::optional<FieldSet> toFieldSet(const json& value, const Type* type, bool strict,
                                   std::string* error) {
  FieldSet set;
  Path path;
  if (!walkFieldSet(value, type, path, set, strict, error)) return std::nullopt;
  return set;
}

Comparison compare(const json* lhs, const json* rhs, const Type* type) {
  Comparison c;
  if (lhs == nullptr && rhs == nullptr) return c;
  Path path;
  compareNode(lhs, rhs, type, path, c);
  return c;
}

std::optional<json> merge(const json& live, const json& config, const Type* type,
                          std::string* error) {
  Path path;
  bool failed = false;
  auto out = mergeNode(&live, &config, type, path, error, failed);
  if (failed) return std::nullopt;
  return out ? std::move(*out) : json::object();
}

json removeItems(const json& value, const FieldSet& toRemove, const Type* type) {
  if (toRemove.empty()) return value;
  auto out = removeNode(value, toRemove, type);
  return out ? std::move(*out) : json::object();
}

FieldSet ensureNamedFieldsAreMembers(const FieldSet& set, const Type* type) {
  FieldSet out;
  out.mutableMembers() = set.members();
  const bool mapLike = type->kind == Kind::kMap || type->kind == Kind::kUntyped;
  for (const auto& [pe, child] : set.children()) {
    if (pe.kind == PathElement::Kind::kField) {
      const schema::Child c = schema::childOf(type, pe.field);
      if (mapLike && c.named) out.mutableMembers().insert(pe);
      out.setChild(pe, ensureNamedFieldsAreMembers(child, c.type));
    } else {
      out.setChild(pe, ensureNamedFieldsAreMembers(child, schema::itemOf(type)));
    }
  }
  return out;
}

}  // namespace rio::testenv::typed
