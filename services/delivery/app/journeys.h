#pragma once
// Journeys (domain/journey.h): their requests, the events that enrol
// customers, move waiting enrolments and end them at their goal, and the
// runner's round (Tick) that takes every due enrolment through its steps
// until it waits or ends. Each step's effect happens once: a send is a
// ledger row keyed by the enrolment's visit of the step
// (domain::JourneyMessageKey), an attribute change carries a request id,
// and the position is written after every step under the enrolment's
// version, so a runner that stops mid-way leaves a step to be taken again,
// never twice in effect.
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/outbox/write_meta.h"
#include "services/delivery/app/campaigns.h"
#include "services/delivery/app/ports.h"

namespace crm::delivery::app {

struct JourneyResults {
  domain::Journey journey;
  JourneyCounts counts;
};

struct JourneyOptions {
  int max_attempts = 8;                      // a message's (the ledger's)
  int step_attempts = 10;                    // a step whose peer fails, before the exit
  absl::Duration lease = absl::Seconds(60);  // a runner's hold on an enrolment
  int batch = 200;                           // enrolments per round
};

class Journeys final : public Runner {
 public:
  Journeys(JourneyRepository& journeys, DeliveryRepository& ledger, WorkQueue& queue,
           Renderer& renderer, SegmentDirectory& segments, CustomerDirectory& customers,
           JourneyOptions options, const common::Clock& clock, common::IdGenerator& ids)
      : journeys_(journeys),
        ledger_(ledger),
        queue_(queue),
        renderer_(renderer),
        segments_(segments),
        customers_(customers),
        options_(options),
        clock_(clock),
        ids_(ids) {}

  absl::StatusOr<domain::Journey> Create(const outbox::WriteMeta& meta, domain::Journey draft);
  absl::StatusOr<domain::Journey> Get(const std::string& tenant, const std::string& id);
  absl::StatusOr<std::vector<domain::Journey>> List(const std::string& tenant);
  // A draft's definition replaced by `draft` (`if_match` the version read).
  absl::StatusOr<domain::Journey> Update(const outbox::WriteMeta& meta, const std::string& id,
                                         domain::Journey draft, const std::string& if_match);
  absl::StatusOr<domain::Journey> Act(const outbox::WriteMeta& meta, const std::string& id,
                                      domain::JourneyAction action);
  // Enrols the customer now (ALREADY_EXISTS JOURNEY_ENROLLMENT_EXISTS when
  // the re-entry policy keeps them out).
  absl::StatusOr<domain::Enrollment> Enroll(const outbox::WriteMeta& meta, const std::string& id,
                                            const std::string& customer_id);
  absl::StatusOr<std::vector<EnrollmentView>> Enrollments(const std::string& tenant,
                                                          const std::string& id,
                                                          const std::string& customer_id,
                                                          int page_size);
  absl::StatusOr<JourneyResults> Results(const std::string& tenant, const std::string& id);

  // An event of the tenant: the goal of the customer's enrolments it is the
  // goal of (ended), the waits for it (moved to their on_event step), and
  // the journeys it triggers (the customer enrolled, once per event id);
  // how many enrolments it changed or made.
  absl::StatusOr<int> OnEvent(const std::string& tenant, const TriggerEvent& e);

  // One round of the runner over every tenant: how many enrolments moved.
  absl::StatusOr<int> Tick() override;
  std::string Name() const override { return "journey"; }

 private:
  // Templates, segments, endpoints and conditions the journey names.
  absl::Status CheckReferences(const std::string& tenant, const domain::Journey& j);
  // Takes one leased enrolment through its due steps; false when another
  // change overtook it.
  absl::StatusOr<bool> Run(const std::string& tenant, const domain::Journey& j,
                           domain::Enrollment e);
  // The step's effect; "" or the branch taken (condition: else).
  // An error: the step failed (tried again later).
  absl::StatusOr<std::string> TakeStep(const std::string& tenant, const domain::JourneyStep& step,
                                       const domain::Enrollment& e);
  absl::StatusOr<std::optional<domain::Enrollment>> Insert(const outbox::WriteMeta& meta,
                                                           const domain::Journey& j,
                                                           const std::string& customer_id,
                                                           const std::string& event_id);

  JourneyRepository& journeys_;
  DeliveryRepository& ledger_;
  WorkQueue& queue_;
  Renderer& renderer_;
  SegmentDirectory& segments_;
  CustomerDirectory& customers_;
  const JourneyOptions options_;
  const common::Clock& clock_;
  common::IdGenerator& ids_;
};

}  // namespace crm::delivery::app
