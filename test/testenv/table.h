// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (cm-list-table.txt, cr-list-table.txt).
// Built-in kinds get kubectl's usual columns; custom resources their CRD's
// additionalPrinterColumns (or Name and Age when there are none).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "controller/core/clock.h"
#include "test/testenv/registry.h"

namespace rio::testenv {

enum class TableObjects { kNone, kMetadata, kObject };

/// A Table of `objects` (already in the served version's form). `includeObject` follows the
/// `includeObject` query parameter (default Metadata: rows carry PartialObjectMetadata).
nlohmann::json renderTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                           const std::string& resourceVersion, WallTime now,
                           TableObjects includeObject = TableObjects::kMetadata,
                           const nlohmann::json& listMeta = nlohmann::json::object());

/// metadata only, in the PartialObjectMetadata shape.
nlohmann::json partialObjectMetadata(const nlohmann::json& obj);

}  // namespace rio::testenv
