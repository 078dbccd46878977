#include "services/customer_store/storage/redis_view_cache.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/observability/log.h"

namespace crm::customer_store::storage {
namespace {
// Ids are UUIDs, which PostgreSQL compares case-insensitively: the keys use
// one spelling so an invalidation reaches every way of reading.
std::string ViewKey(const std::string& t, const std::string& id) {
  return absl::StrCat("crm:cs:view:", absl::AsciiStrToLower(t), ":", absl::AsciiStrToLower(id));
}
std::string GenKey(const std::string& t, const std::string& id) {
  return absl::StrCat("crm:cs:gen:", absl::AsciiStrToLower(t), ":", absl::AsciiStrToLower(id));
}
}  // namespace

app::ViewCache::Lookup RedisViewCache::Get(const std::string& tenant, const std::string& id) {
  Lookup out;
  std::string vk = ViewKey(tenant, id), gk = GenKey(tenant, id);
  auto r = pool_.Command({"MGET", vk, gk});
  if (!r.ok()) {
    CRM_LOG(Warning) << "view cache read skipped: " << r.status();
    return out;
  }
  auto n = r->ArraySize();
  if (!n.ok() || *n != 2) return out;
  auto view = r->Element(0);
  auto gen = r->Element(1);
  if (!view.ok() || !gen.ok()) return out;
  std::string generation = "0";
  if (!gen->is_nil()) {
    auto g = gen->String();
    if (!g.ok()) return out;
    generation = *g;
  }
  out.generation = generation;
  out.usable = true;
  if (!view->is_nil()) {
    auto v = view->String();
    if (v.ok()) {
      size_t bar = v->find('|');
      if (bar != std::string::npos && v->compare(0, bar, generation) == 0) {
        out.hit = v->substr(bar + 1);
      }
    }
  }
  return out;
}

void RedisViewCache::Put(const std::string& tenant, const std::string& id,
                         const std::string& generation, const std::string& bytes) {
  absl::Status s = pool_.SetEx(ViewKey(tenant, id), absl::StrCat(generation, "|", bytes), ttl_);
  if (!s.ok()) CRM_LOG(Warning) << "view cache write skipped: " << s;
}

void RedisViewCache::Invalidate(const std::string& tenant, const std::string& id) {
  // The generation key outlives the views it guards.
  std::string gk = GenKey(tenant, id);
  auto r = pool_.Pipeline({{"INCR", gk}, {"EXPIRE", gk, "604800"}, {"UNLINK", ViewKey(tenant, id)}});
  if (!r.ok()) {
    CRM_LOG(Warning).Field("customer_id", id)
        << "view cache invalidation failed; stale entries expire by TTL: " << r.status();
  }
}

void RedisViewCache::InvalidateMany(const std::string& tenant,
                                    const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> keys;  // owns the text the commands point at
  keys.reserve(ids.size() * 2);
  for (const std::string& id : ids) {
    keys.push_back(GenKey(tenant, id));
    keys.push_back(ViewKey(tenant, id));
  }
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(ids.size() * 3);
  for (size_t i = 0; i < keys.size(); i += 2) {
    commands.push_back({"INCR", keys[i]});
    commands.push_back({"EXPIRE", keys[i], "604800"});
    commands.push_back({"UNLINK", keys[i + 1]});
  }
  auto r = pool_.Pipeline(commands);
  if (!r.ok()) {
    CRM_LOG(Warning).Field("customers", static_cast<int64_t>(ids.size()))
        << "view cache invalidation failed; stale entries expire by TTL: " << r.status();
  }
}

}  // namespace crm::customer_store::storage
