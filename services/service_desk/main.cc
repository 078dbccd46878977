// service-desk: wiring only.
#include <algorithm>
#include <memory>

#include "libs/common/clock.h"
#include "libs/common/id.h"
#include "libs/common/service_config.h"
#include "libs/common/tracking_token.h"
#include "libs/grpcutil/channel.h"
#include "libs/service/runtime.h"
#include "services/service_desk/api/automation_sweeper.h"
#include "services/service_desk/api/grpc_service.h"
#include "services/service_desk/api/sla_sweeper.h"
#include "services/service_desk/api/smtp_listener.h"
#include "services/service_desk/api/survey_sweeper.h"
#include "services/service_desk/clients/grpc_customer_context.h"
#include "services/service_desk/clients/grpc_customer_directory.h"
#include "services/service_desk/schema_name.h"
#include "services/service_desk/storage/pg_ticket_repository.h"

int main() {
  using namespace crm;  // NOLINT
  service::Boot boot("service-desk");
  const common::ServiceConfig config = boot.Config(common::LoadServiceConfig());
  // Requesters are customers: found or created by email in customer-store.
  const common::PeerConfig customer_store =
      boot.Config(common::LoadPeerConfig("customer-store", {"", absl::Seconds(2)}));
  // Inbound mail over SMTP or LMTP (CRM_SMTP_PORT; off when unset).
  const service_desk::api::SmtpListenerOptions smtp =
      boot.Config(service_desk::api::LoadSmtpListenerOptions(config.bind_host));
  // Satisfaction surveys: their answer links' base (CRM_SURVEY_BASE_URL;
  // unset: none is sent) and the sweeper's period.
  const service_desk::api::SurveySweeperOptions survey_options =
      boot.Config(service_desk::api::LoadSurveySweeperOptions());
  std::unique_ptr<service::Runtime> rt =
      boot.Start(config, service_desk::storage::PgTicketRepository::Queries());
  service_desk::storage::PgTicketRepository repository(rt->pg());
  std::shared_ptr<grpc::Channel> customer_store_channel =
      grpcutil::MakeChannel(customer_store.addr);
  service_desk::clients::GrpcCustomerDirectory directory(customer_store_channel,
                                                         customer_store.timeout);
  // A ticket's context (its requester's visit and 360 view) within a second.
  service_desk::clients::GrpcCustomerContext customer_context(
      customer_store_channel,
      std::min(customer_store.timeout, service_desk::clients::kContextDeadline));
  common::SystemClock clock;
  common::RandomIdGenerator ids;
  service_desk::app::Tickets tickets(repository, directory, clock, ids, &customer_context);
  service_desk::app::Slas slas(repository, clock);
  service_desk::app::Mailboxes mailboxes(repository, clock, ids);
  service_desk::app::Inbound inbound(repository, tickets, clock, ids);
  service_desk::app::Routing routing(repository, clock);
  service_desk::app::Agents agents(repository, tickets, clock);
  service_desk::app::Macros macros(repository, tickets, clock, ids);
  service_desk::app::TriggerRules triggers(repository, clock);
  service_desk::app::AutomationRules automations(repository, tickets, clock);
  service_desk::app::KnowledgeBase knowledge(repository, clock, ids);
  service_desk::app::Classifiers classifiers(repository, clock);
  service_desk::app::Surveys surveys(repository, tickets, clock, ids,
                                     common::TrackingKey(config.context_key),
                                     survey_options.base_url);
  service_desk::app::TicketContexts contexts(tickets, customer_context);
  service_desk::api::ServiceDeskGrpcService service(
      tickets, slas, mailboxes, inbound, routing, agents, macros, triggers, automations, knowledge,
      classifiers, surveys, contexts, rt->executor(), rt->rpc_metrics(), rt->tokens());
  service_desk::api::SmtpListener mail_listener(smtp, mailboxes, inbound, rt->registry());
  rt->AddListener([&] { return mail_listener.Start(); }, [&] { mail_listener.Stop(); });
  // Stored SLA instants: warnings, breaches and escalations told when due.
  service_desk::api::SlaSweeper sweeper(slas, rt->registry(), {});
  rt->AddListener(
      [&] {
        sweeper.Start();
        return absl::OkStatus();
      },
      [&] { sweeper.Stop(); });
  // Time-based automations, every minute.
  service_desk::api::AutomationSweeper automation_sweeper(automations, rt->registry(), {});
  rt->AddListener(
      [&] {
        automation_sweeper.Start();
        return absl::OkStatus();
      },
      [&] { automation_sweeper.Stop(); });
  // CSAT surveys that fell due, sent with their answer links.
  service_desk::api::SurveySweeper survey_sweeper(surveys, rt->registry(), survey_options);
  rt->AddListener(
      [&] {
        survey_sweeper.Start();
        return absl::OkStatus();
      },
      [&] { survey_sweeper.Stop(); });
  return rt->Serve(service_desk::kSchema, {&service});
}
