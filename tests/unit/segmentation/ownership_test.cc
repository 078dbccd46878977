// Replica ownership of customers (services/segmentation/domain/ownership.h)
// and the backbone's partition function it shares with the outbox relay.
#include <catch2/catch.hpp>

#include <string>

#include "libs/common/id.h"
#include "libs/outbox/relay.h"
#include "services/segmentation/domain/ownership.h"

namespace {

using crm::segmentation::domain::Ownership;

TEST_CASE("PartitionOf is 32-bit FNV-1a modulo the partitions") {
  // FNV-1a test vectors: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
  CHECK(crm::common::PartitionOf("", 1000) == static_cast<int>(0x811c9dc5u % 1000));
  CHECK(crm::common::PartitionOf("a", 8) == static_cast<int>(0xe40c292cu % 8));
  CHECK(crm::common::PartitionOf("foobar", 7) == static_cast<int>(0xbf9cf968u % 7));
  CHECK(crm::common::PartitionOf("foobar", 0) == 0);
  // The relay routes by the same function.
  const std::string id = "6f1c2a5e-0b7d-4c1e-9a43-2f8e5d7c9b10";
  CHECK(crm::outbox::StreamFor(id, 8) ==
        "crm:events:p" + std::to_string(crm::common::PartitionOf(id, 8)));
}

TEST_CASE("every customer has exactly one holder among the replicas") {
  for (int replicas : {1, 2, 3, 8}) {
    int held_by_first = 0;
    for (int n = 0; n < 2000; ++n) {
      const std::string id = crm::common::NewUuid();
      int holders = 0;
      for (int k = 0; k < replicas; ++k) {
        const Ownership o{8, replicas, k};
        REQUIRE(o.Check().ok());
        if (o.Owns(id)) {
          ++holders;
          CHECK(crm::common::PartitionOf(id, 8) % replicas == k);
          if (k == 0) ++held_by_first;
        }
      }
      CHECK(holders == 1);
    }
    // The partitions split the customers about evenly.
    CHECK(held_by_first > 2000 / replicas / 2);
    CHECK(held_by_first < 2000 / replicas * 3 / 2 + 1);
  }
  CHECK(Ownership{}.all());
  CHECK(Ownership{}.Owns("anything"));
}

TEST_CASE("an ownership that leaves a replica without partitions is refused") {
  CHECK_FALSE(Ownership{8, 0, 0}.Check().ok());
  CHECK_FALSE(Ownership{8, 9, 0}.Check().ok());
  CHECK_FALSE(Ownership{8, 2, 2}.Check().ok());
  CHECK_FALSE(Ownership{8, 2, -1}.Check().ok());
  CHECK_FALSE(Ownership{0, 1, 0}.Check().ok());
  CHECK(Ownership{8, 8, 7}.Check().ok());
}

}  // namespace
