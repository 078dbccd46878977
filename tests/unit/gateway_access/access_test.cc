// Access (authentication cache, authorization, rate limits) and Admin use
// cases over FakeKeyStore / FakeRateLimiter and a FixedClock.
#include "services/gateway/app/access.h"
#include "services/gateway/domain/token_bucket.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "libs/common/crypto.h"
#include "libs/common/errors.h"
#include "libs/common/id.h"
#include "services/gateway/domain/api_key.h"
#include "tests/support/fakes/common_fakes.h"
#include "tests/support/fakes/gateway/fake_key_store.h"
#include "tests/support/fakes/gateway/fake_rate_limiter.h"

namespace {

using namespace crm::gateway;  // NOLINT
using crm::common::FieldOf;
using crm::common::ReasonOf;
using crm::testing::FakeKeyStore;
using crm::testing::FakeRateLimiter;
using crm::testing::FixedClock;
using domain::AccessPolicy;
using domain::Role;

constexpr char kTenant[] = "11111111-1111-4111-8111-111111111111";
const std::string kKeyId = "k00000000000000a1";
const std::string kSecret(64, 'b');

struct Fixture {
  FakeKeyStore keys;
  FakeRateLimiter limiter;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  app::Access access{keys, limiter, clock, app::AccessOptions{}};
  app::Admin admin{keys, access, clock};

  Fixture() {
    app::KeyRecord k;
    k.id = kKeyId;
    k.tenant_id = kTenant;
    k.roles = {Role::kSales};
    k.secret_sha256 = crm::common::Sha256(kSecret);
    k.rate_limit_per_second = 7;
    k.create_time = clock.Now();
    keys.Put(k);
  }
  static std::string Header(const std::string& id = kKeyId, const std::string& secret = kSecret) {
    return "Bearer " + domain::FormatKey({id, secret});
  }
};

void RequireInvalidCredentials(const absl::StatusOr<app::Principal>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(ReasonOf(r.status()) == "INVALID_CREDENTIALS");
}

TEST_CASE("Access::Authenticate", "[gateway][app]") {
  Fixture f;
  SECTION("a good key yields the principal") {
    auto p = f.access.Authenticate(Fixture::Header());
    REQUIRE(p.ok());
    CHECK(p->tenant_id == kTenant);
    CHECK(p->key_id == kKeyId);
    CHECK(p->roles == std::vector<Role>{Role::kSales});
    CHECK(p->rate_limit_per_second == 7);
  }
  SECTION("wrong secret") {
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header(kKeyId, std::string(64, 'c'))));
  }
  SECTION("unknown id") {
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header("k00000000000000ff")));
  }
  SECTION("expired") {
    app::KeyRecord k = *f.keys.Key(kKeyId);
    k.expire_time = f.clock.Now();
    f.keys.Put(k);
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
  }
  SECTION("expires while cached") {
    app::KeyRecord k = *f.keys.Key(kKeyId);
    k.expire_time = f.clock.Now() + absl::Seconds(1);
    f.keys.Put(k);
    REQUIRE(f.access.Authenticate(Fixture::Header()).ok());
    f.clock.Advance(absl::Seconds(1));
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
  }
  SECTION("revoked") {
    app::KeyRecord k = *f.keys.Key(kKeyId);
    k.revoke_time = f.clock.Now() - absl::Seconds(1);
    f.keys.Put(k);
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
  }
  SECTION("missing and malformed headers") {
    auto missing = f.access.Authenticate("");
    CHECK(ReasonOf(missing.status()) == "MISSING_CREDENTIALS");
    RequireInvalidCredentials(f.access.Authenticate("Bearer crm_nope"));
    CHECK(f.keys.find_calls() == 0);
  }
  SECTION("a key store error is passed through, not turned into a rejection") {
    f.keys.FailWith(absl::UnavailableError("db down"));
    CHECK(f.access.Authenticate(Fixture::Header()).status().code() ==
          absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("Access caches keys for the TTL", "[gateway][app]") {
  Fixture f;
  REQUIRE(f.access.Authenticate(Fixture::Header()).ok());
  REQUIRE(f.keys.find_calls() == 1);
  // Revoked in the store by another replica.
  app::KeyRecord k = *f.keys.Key(kKeyId);
  k.revoke_time = f.clock.Now();
  f.keys.Put(k);

  SECTION("a revoked key stays valid until the TTL passes") {
    f.clock.Advance(absl::Seconds(4));
    CHECK(f.access.Authenticate(Fixture::Header()).ok());
    CHECK(f.keys.find_calls() == 1);
    f.clock.Advance(absl::Seconds(1));  // 5 s = TTL
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
    CHECK(f.keys.find_calls() == 2);
  }
  SECTION("Forget drops it at once") {
    f.access.Forget(kKeyId);
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
    CHECK(f.keys.find_calls() == 2);
  }
  SECTION("unknown ids are cached too") {
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header("k00000000000000ff")));
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header("k00000000000000ff")));
    CHECK(f.keys.find_calls() == 2);
  }
}

TEST_CASE("A lookup that races a revoke does not put the key back in the cache",
          "[gateway][app]") {
  Fixture f;
  // The lookup reads the key, then (before it caches it) the key is revoked
  // and forgotten on this replica.
  f.keys.AfterFind([&f] {
    f.keys.AfterFind(nullptr);
    app::KeyRecord k = *f.keys.Key(kKeyId);
    k.revoke_time = f.clock.Now();
    f.keys.Put(k);
    f.access.Forget(kKeyId);
  });
  CHECK(f.access.Authenticate(Fixture::Header()).ok());  // started before the revoke
  RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
  CHECK(f.keys.find_calls() == 2);  // not served from a stale cache entry
}

TEST_CASE("Unknown key ids: a bounded negative cache and a bounded lookup rate",
          "[gateway][app]") {
  FakeKeyStore keys;
  FakeRateLimiter limiter;
  FixedClock clock{absl::FromUnixSeconds(1700000000)};
  app::AccessOptions options;
  options.max_key_lookups_per_second = 5;
  options.max_unknown_cached = 3;
  app::Access access{keys, limiter, clock, options};
  app::KeyRecord k;
  k.id = kKeyId;
  k.tenant_id = kTenant;
  k.roles = {Role::kSales};
  k.secret_sha256 = crm::common::Sha256(kSecret);
  k.create_time = clock.Now();
  keys.Put(k);
  REQUIRE(access.Authenticate(Fixture::Header()).ok());  // lookup 1: a real key, cached
  for (int i = 0; i < 4; ++i) {                         // lookups 2..5: random ids
    RequireInvalidCredentials(
        access.Authenticate(Fixture::Header(absl::StrCat("k00000000000001", i, "0"))));
  }
  CHECK(keys.find_calls() == 5);
  // The 6th miss in the same second is refused without touching the store.
  auto refused = access.Authenticate(Fixture::Header("k00000000000009f0"));
  REQUIRE(refused.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(ReasonOf(refused.status()) == "RATE_LIMITED");
  CHECK(refused.status().GetPayload(app::kRetryAfterPayload).has_value());
  CHECK(keys.find_calls() == 5);
  // The real key is still served from the cache: the flood of unknown ids
  // filled (and flushed) only the negative cache.
  CHECK(access.Authenticate(Fixture::Header()).ok());
  CHECK(keys.find_calls() == 5);
  // A second later the store is asked again.
  clock.Advance(absl::Seconds(1));
  RequireInvalidCredentials(access.Authenticate(Fixture::Header("k00000000000009f0")));
  CHECK(keys.find_calls() == 6);
}

TEST_CASE("Access::Authorize", "[gateway][app]") {
  Fixture f;
  app::Principal p{kTenant, kKeyId, {Role::kReadOnly}, 0};
  CHECK(f.access
            .Authorize(p, "/crm.customer_store.v1.CustomerStoreService/GetCustomer",
                       AccessPolicy::kEveryRole)
            .ok());
  absl::Status s = f.access.Authorize(
      p, "/crm.customer_store.v1.CustomerStoreService/CreateCustomer", AccessPolicy::kWriters);
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(ReasonOf(s) == "PERMISSION_DENIED_FOR_ROLE");
  CHECK(std::string(s.message()).find("read-only") != std::string::npos);
  CHECK(f.access.Authorize(p, "/unknown.Service/Method", AccessPolicy::kUnspecified).code() ==
        absl::StatusCode::kPermissionDenied);
}

TEST_CASE("Access::Admit", "[gateway][app]") {
  Fixture f;
  app::Principal p{kTenant, kKeyId, {Role::kSales}, 7};
  SECTION("allowed, with the key's rate and burst = rate * 2 s") {
    CHECK(f.access.Admit(p).ok());
    CHECK(f.limiter.last_key_id() == kKeyId);
    CHECK(f.limiter.last_rate() == 7);
    CHECK(f.limiter.last_burst() == 14);
  }
  SECTION("keys without a limit get the default") {
    p.rate_limit_per_second = 0;
    CHECK(f.access.Admit(p).ok());
    CHECK(f.limiter.last_rate() == 100);
    CHECK(f.limiter.last_burst() == 200);
  }
  SECTION("denied is RESOURCE_EXHAUSTED with the retry delay") {
    f.limiter.Deny(absl::Milliseconds(250));
    absl::Status s = f.access.Admit(p);
    CHECK(s.code() == absl::StatusCode::kResourceExhausted);
    CHECK(ReasonOf(s) == "RATE_LIMITED");
    auto retry = s.GetPayload(app::kRetryAfterPayload);
    REQUIRE(retry.has_value());
    CHECK(std::string(*retry) == "250");
    f.limiter.Deny(absl::ZeroDuration());
    auto min = f.access.Admit(p).GetPayload(app::kRetryAfterPayload);
    REQUIRE(min.has_value());
    CHECK(std::string(*min) == "1");
  }
  SECTION("a failing limiter falls back to a bucket per key in this replica, never to no limit") {
    f.limiter.FailWith(absl::UnavailableError("redis down"));
    // rate 7/s, burst 14: the burst passes, the 15th call in the same instant does not.
    for (int i = 0; i < 14; ++i) REQUIRE(f.access.Admit(p).ok());
    absl::Status s = f.access.Admit(p);
    CHECK(s.code() == absl::StatusCode::kResourceExhausted);
    CHECK(ReasonOf(s) == "RATE_LIMITED");
    auto retry = s.GetPayload(app::kRetryAfterPayload);
    REQUIRE(retry.has_value());
    CHECK(std::string(*retry) == "142");  // one token at 7/s
    CHECK(f.limiter.take_calls() == 15);  // the shared store is still tried first
    // Another key has a bucket of its own.
    app::Principal other{kTenant, "k0000000000000002", {Role::kSales}, 7};
    CHECK(f.access.Admit(other).ok());
    // Tokens refill with time.
    f.clock.Advance(absl::Milliseconds(150));
    CHECK(f.access.Admit(p).ok());
    CHECK(f.access.Admit(p).code() == absl::StatusCode::kResourceExhausted);
    // Back to the shared limiter once it answers.
    f.limiter.Allow();
    CHECK(f.access.Admit(p).ok());
  }
}

TEST_CASE("Access::TakeLeasedToken spends the lease of an admitted principal", "[gateway][app]") {
  Fixture f;
  app::Principal p{kTenant, kKeyId, {Role::kSales}, 150};  // lease of 150 / 50 = 3 tokens
  CHECK_FALSE(f.access.TakeLeasedToken(p));  // no lease yet
  REQUIRE(f.access.Admit(p).ok());            // takes 3, spends 1
  CHECK(f.access.TakeLeasedToken(p));
  CHECK(f.access.TakeLeasedToken(p));
  CHECK_FALSE(f.access.TakeLeasedToken(p));
  REQUIRE(f.access.Admit(p).ok());
  f.clock.Advance(absl::Seconds(1));  // an old lease is dropped
  CHECK_FALSE(f.access.TakeLeasedToken(p));
}

TEST_CASE("LocalTokenBuckets", "[gateway][domain]") {
  crm::gateway::domain::LocalTokenBuckets b(2);
  absl::Time t0 = absl::FromUnixSeconds(1700000000);
  CHECK(b.Take("a", 10, 2, t0) == absl::ZeroDuration());
  CHECK(b.Take("a", 10, 2, t0) == absl::ZeroDuration());
  CHECK(b.Take("a", 10, 2, t0) == absl::Milliseconds(100));
  CHECK(b.Take("a", 10, 2, t0 + absl::Milliseconds(50)) == absl::Milliseconds(50));
  CHECK(b.Take("a", 10, 2, t0 + absl::Milliseconds(100)) == absl::ZeroDuration());
  // A long pause refills to the burst, not beyond.
  absl::Time t1 = t0 + absl::Hours(1);
  CHECK(b.Take("a", 10, 2, t1) == absl::ZeroDuration());
  CHECK(b.Take("a", 10, 2, t1) == absl::ZeroDuration());
  CHECK(b.Take("a", 10, 2, t1) > absl::ZeroDuration());
  // Memory stays bounded.
  b.Take("b", 10, 2, t1);
  b.Take("c", 10, 2, t1);
  CHECK(b.size() <= 2);
}

TEST_CASE("Access leases tokens and admits without I/O while the lease lasts",
          "[gateway][app]") {
  Fixture f;
  const std::string header = Fixture::Header();
  const char* method = "/crm.customer_store.v1.CustomerStoreService/GetCustomer";
  SECTION("nothing cached: the caller must take the blocking path") {
    CHECK_FALSE(f.access.AdmitWithoutIo(header, method, AccessPolicy::kEveryRole).has_value());
  }
  SECTION("cached key and a lease: admitted with no limiter call") {
    auto p = f.access.Authenticate(header);
    REQUIRE(p.ok());
    p->rate_limit_per_second = 500;  // lease of 500 / 50 = 10 tokens
    REQUIRE(f.access.Admit(*p).ok());
    CHECK(f.limiter.last_want() == 10);
    int calls = f.limiter.take_calls();
    // The lease holds the 9 tokens left of the 10 granted.
    for (int i = 0; i < 9; ++i) {
      auto fast = f.access.AdmitWithoutIo(header, method, AccessPolicy::kEveryRole);
      REQUIRE(fast.has_value());
      REQUIRE(fast->ok());
      CHECK((*fast)->tenant_id == kTenant);
    }
    CHECK_FALSE(f.access.AdmitWithoutIo(header, method, AccessPolicy::kEveryRole)
                    .has_value());  // lease spent
    CHECK(f.limiter.take_calls() == calls);
  }
  SECTION("a lease older than a second is not used") {
    auto p = f.access.Authenticate(header);
    REQUIRE(p.ok());
    p->rate_limit_per_second = 500;
    REQUIRE(f.access.Admit(*p).ok());
    f.clock.Advance(absl::Milliseconds(1001));
    // The key cache (5 s) still holds, the lease does not.
    CHECK_FALSE(f.access.AdmitWithoutIo(header, method, AccessPolicy::kEveryRole).has_value());
  }
  SECTION("a wrong secret or a forbidden method is refused without I/O") {
    auto p = f.access.Authenticate(header);
    REQUIRE(p.ok());
    REQUIRE(f.access.Admit(*p).ok());
    std::string wrong = header;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    auto bad = f.access.AdmitWithoutIo(wrong, method, AccessPolicy::kEveryRole);
    REQUIRE(bad.has_value());
    CHECK(bad->status().code() == absl::StatusCode::kUnauthenticated);
    auto forbidden = f.access.AdmitWithoutIo(header, "/crm.gateway.v1.AdminService/CreateTenant",
                                             AccessPolicy::kPlatform);
    REQUIRE(forbidden.has_value());
    CHECK(forbidden->status().code() == absl::StatusCode::kPermissionDenied);
  }
  SECTION("Forget drops the lease with the key") {
    auto p = f.access.Authenticate(header);
    REQUIRE(p.ok());
    p->rate_limit_per_second = 500;
    REQUIRE(f.access.Admit(*p).ok());
    f.access.Forget(p->key_id);
    CHECK_FALSE(f.access.AdmitWithoutIo(header, method, AccessPolicy::kEveryRole).has_value());
  }
}

TEST_CASE("Admin::CreateKey", "[gateway][app]") {
  Fixture f;
  app::Principal admin{kTenant, kKeyId, {Role::kAdmin}, 0};
  SECTION("creates a usable key for the caller's tenant") {
    auto k = f.admin.CreateKey(admin, {}, "ci", {Role::kSales, Role::kReadOnly, Role::kSales},
                               absl::InfiniteFuture(), 20);
    REQUIRE(k.ok());
    CHECK(k->key.tenant_id == kTenant);
    CHECK(k->key.roles == std::vector<Role>{Role::kSales, Role::kReadOnly});
    CHECK(k->key.rate_limit_per_second == 20);
    CHECK(k->key.create_time == f.clock.Now());
    CHECK(f.keys.Key(k->key.id).has_value());
    CHECK(f.keys.last_principal() == kKeyId);
    auto parsed = domain::ParseKey(k->secret);
    REQUIRE(parsed.ok());
    CHECK(parsed->key_id == k->key.id);
    CHECK(k->key.secret_sha256 == crm::common::Sha256(parsed->secret));
    auto p = f.access.Authenticate("Bearer " + k->secret);
    REQUIRE(p.ok());
    CHECK(p->key_id == k->key.id);
  }
  SECTION("role validation") {
    CHECK(FieldOf(f.admin.CreateKey(admin, {}, "x", {}, absl::InfiniteFuture(), 0).status()) ==
          "roles");
    CHECK(FieldOf(f.admin.CreateKey(admin, {}, "x", {Role::kUnspecified}, absl::InfiniteFuture(), 0)
                      .status()) == "roles");
    CHECK(
        FieldOf(f.admin.CreateKey(admin, {}, "x", {static_cast<Role>(8)}, absl::InfiniteFuture(), 0)
                    .status()) == "roles");
  }
  SECTION("platform-admin is granted only by a platform admin") {
    absl::Status s =
        f.admin.CreateKey(admin, {}, "x", {Role::kPlatformAdmin}, absl::InfiniteFuture(), 0)
            .status();
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK(ReasonOf(s) == "PERMISSION_DENIED_FOR_ROLE");
    app::Principal platform{kTenant, kKeyId, {Role::kPlatformAdmin}, 0};
    CHECK(f.admin.CreateKey(platform, {}, "x", {Role::kPlatformAdmin}, absl::InfiniteFuture(), 0)
              .ok());
  }
  SECTION("expire_time must be in the future") {
    CHECK(FieldOf(f.admin.CreateKey(admin, {}, "x", {Role::kSales}, f.clock.Now(), 0).status()) ==
          "expire_time");
    CHECK(
        FieldOf(f.admin.CreateKey(admin, {}, "x", {Role::kSales}, f.clock.Now() - absl::Hours(1), 0)
                    .status()) == "expire_time");
    auto k = f.admin.CreateKey(admin, {}, "x", {Role::kSales}, f.clock.Now() + absl::Hours(1), 0);
    REQUIRE(k.ok());
    CHECK(k->key.expire_time == f.clock.Now() + absl::Hours(1));
  }
  SECTION("limits and names") {
    CHECK(FieldOf(f.admin.CreateKey(admin, {}, "x", {Role::kSales}, absl::InfiniteFuture(), -1)
                      .status()) == "rate_limit_per_second");
    CHECK(FieldOf(f.admin.CreateKey(admin, {}, "x", {Role::kSales}, absl::InfiniteFuture(), 100001)
                      .status()) == "rate_limit_per_second");
    CHECK(FieldOf(f.admin
                      .CreateKey(admin, {}, std::string(201, 'n'), {Role::kSales},
                                 absl::InfiniteFuture(), 0)
                      .status()) == "display_name");
  }
}

TEST_CASE("Admin::RevokeKey and CreateTenant", "[gateway][app]") {
  Fixture f;
  app::Principal admin{kTenant, "k00000000000000b2", {Role::kAdmin}, 0};
  SECTION("revocation takes effect at once on this replica") {
    REQUIRE(f.access.Authenticate(Fixture::Header()).ok());  // cached
    auto r = f.admin.RevokeKey(admin, kKeyId);
    REQUIRE(r.ok());
    CHECK(r->revoke_time == f.clock.Now());
    RequireInvalidCredentials(f.access.Authenticate(Fixture::Header()));
  }
  SECTION("another tenant's key is NOT_FOUND and stays valid") {
    app::Principal other{"22222222-2222-4222-8222-222222222222", "k00000000000000c3",
                         {Role::kAdmin}, 0};
    absl::Status s = f.admin.RevokeKey(other, kKeyId).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(ReasonOf(s) == "API_KEY_NOT_FOUND");
    CHECK(f.access.Authenticate(Fixture::Header()).ok());
  }
  SECTION("malformed key ids are refused") {
    CHECK(FieldOf(f.admin.RevokeKey(admin, "nope").status()) == "key_id");
  }
  SECTION("CreateTenant makes a tenant with an admin key") {
    app::Principal platform{kTenant, kKeyId, {Role::kPlatformAdmin}, 0};
    auto t = f.admin.CreateTenant(platform, {}, "Acme");
    REQUIRE(t.ok());
    CHECK(crm::common::IsUuid(t->tenant.id));
    CHECK(t->tenant.display_name == "Acme");
    CHECK(t->admin_key.key.tenant_id == t->tenant.id);
    CHECK(t->admin_key.key.roles == std::vector<Role>{Role::kAdmin});
    CHECK(f.keys.TenantOf(t->tenant.id).has_value());
    auto p = f.access.Authenticate("Bearer " + t->admin_key.secret);
    REQUIRE(p.ok());
    CHECK(p->tenant_id == t->tenant.id);
    CHECK(FieldOf(f.admin.CreateTenant(platform, {}, "").status()) == "display_name");
  }
}

}  // namespace
