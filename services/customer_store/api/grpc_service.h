#pragma once
// The gRPC edge of engine 1: validation and mapping only; the work runs on
// the bounded executor through crm::grpcutil::Offload.
#include "crm/customer_store/v1/customer_store.grpc.pb.h"
#include "libs/common/executor.h"
#include "libs/common/page_token.h"
#include "libs/grpcutil/rpc_metrics.h"
#include "services/customer_store/app/behaviour.h"
#include "services/customer_store/app/behaviour_retention.h"
#include "services/customer_store/app/customer_store.h"
#include "services/customer_store/app/customer_views.h"
#include "services/customer_store/app/import.h"
#include "services/customer_store/app/merge.h"
#include "services/customer_store/app/resolve.h"

namespace crm::customer_store::api {

namespace v1 = ::crm::customer_store::v1;

class ImportReactor;

// GetCustomerView is a raw method: a cache hit is the stored serialized view
// (no mapping from the domain), into which the sections asked of other
// engines on every read (app::CustomerViews) are merged.
using CustomerStoreBase = v1::CustomerStoreService::WithRawCallbackMethod_GetCustomerView<
    v1::CustomerStoreService::CallbackService>;

class CustomerStoreGrpcService final : public CustomerStoreBase {
 public:
  CustomerStoreGrpcService(app::CustomerStore& store, app::CustomerMerger& merger,
                           app::CustomerImporter& importer, common::Executor& executor,
                           grpcutil::RpcMetrics& metrics, const common::PageTokenCodec& tokens,
                           app::CustomerResolver& resolver, app::BehaviourTracker& tracker,
                           app::CustomerViews& views, app::BehaviourRetention& retention)
      : store_(store),
        merger_(merger),
        importer_(importer),
        executor_(executor),
        metrics_(metrics),
        tokens_(tokens),
        resolver_(resolver),
        tracker_(tracker),
        views_(views),
        retention_(retention) {}

  grpc::ServerUnaryReactor* CreateCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::CreateCustomerRequest* req,
                                           v1::Customer* resp) override;
  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* ctx,
                                        const v1::GetCustomerRequest* req,
                                        v1::Customer* resp) override;
  grpc::ServerUnaryReactor* UpdateCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::UpdateCustomerRequest* req,
                                           v1::Customer* resp) override;
  grpc::ServerUnaryReactor* DeleteCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::DeleteCustomerRequest* req,
                                           v1::DeleteCustomerResponse* resp) override;
  grpc::ServerUnaryReactor* ListCustomers(grpc::CallbackServerContext* ctx,
                                          const v1::ListCustomersRequest* req,
                                          v1::ListCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* SearchCustomers(grpc::CallbackServerContext* ctx,
                                            const v1::SearchCustomersRequest* req,
                                            v1::SearchCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* UpsertCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::UpsertCustomerRequest* req,
                                           v1::UpsertCustomerResponse* resp) override;
  grpc::ServerUnaryReactor* MergeCustomers(grpc::CallbackServerContext* ctx,
                                           const v1::MergeCustomersRequest* req,
                                           v1::MergeCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* UnmergeCustomer(grpc::CallbackServerContext* ctx,
                                            const v1::UnmergeCustomerRequest* req,
                                            v1::UnmergeCustomerResponse* resp) override;
  grpc::ServerReadReactor<v1::ImportCustomersRequest>* ImportCustomers(
      grpc::CallbackServerContext* ctx, v1::ImportCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* ImportCustomersNdjson(grpc::CallbackServerContext* ctx,
                                                  const v1::ImportCustomersNdjsonRequest* req,
                                                  v1::ImportCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* GetCustomerView(grpc::CallbackServerContext* ctx,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ExportCustomer(grpc::CallbackServerContext* ctx,
                                           const v1::ExportCustomerRequest* req,
                                           v1::CustomerExport* resp) override;
  grpc::ServerUnaryReactor* ListConsents(grpc::CallbackServerContext* ctx,
                                         const v1::ListConsentsRequest* req,
                                         v1::ListConsentsResponse* resp) override;
  grpc::ServerUnaryReactor* RecordConsent(grpc::CallbackServerContext* ctx,
                                          const v1::RecordConsentRequest* req,
                                          v1::Consent* resp) override;
  grpc::ServerUnaryReactor* ListInteractions(grpc::CallbackServerContext* ctx,
                                             const v1::ListInteractionsRequest* req,
                                             v1::ListInteractionsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateInteraction(grpc::CallbackServerContext* ctx,
                                              const v1::CreateInteractionRequest* req,
                                              v1::Interaction* resp) override;
  grpc::ServerUnaryReactor* ResolveCustomerRefs(grpc::CallbackServerContext* ctx,
                                                const v1::ResolveCustomerRefsRequest* req,
                                                v1::ResolveCustomerRefsResponse* resp) override;
  grpc::ServerUnaryReactor* BatchGetCustomers(grpc::CallbackServerContext* ctx,
                                              const v1::BatchGetCustomersRequest* req,
                                              v1::BatchGetCustomersResponse* resp) override;
  grpc::ServerUnaryReactor* TrackEvents(grpc::CallbackServerContext* ctx,
                                        const v1::TrackEventsRequest* req,
                                        v1::TrackEventsResponse* resp) override;
  grpc::ServerUnaryReactor* GetVisit(grpc::CallbackServerContext* ctx,
                                     const v1::GetVisitRequest* req, v1::Visit* resp) override;
  grpc::ServerUnaryReactor* IdentifyCustomer(grpc::CallbackServerContext* ctx,
                                             const v1::IdentifyCustomerRequest* req,
                                             v1::IdentifyCustomerResponse* resp) override;
  grpc::ServerUnaryReactor* GetBehaviourSettings(grpc::CallbackServerContext* ctx,
                                                 const v1::GetBehaviourSettingsRequest* req,
                                                 v1::BehaviourSettings* resp) override;
  grpc::ServerUnaryReactor* UpdateBehaviourSettings(grpc::CallbackServerContext* ctx,
                                                    const v1::UpdateBehaviourSettingsRequest* req,
                                                    v1::BehaviourSettings* resp) override;

 private:
  friend class ImportReactor;
  app::CustomerStore& store_;
  app::CustomerMerger& merger_;
  app::CustomerImporter& importer_;
  common::Executor& executor_;
  grpcutil::RpcMetrics& metrics_;
  const common::PageTokenCodec& tokens_;
  app::CustomerResolver& resolver_;
  app::BehaviourTracker& tracker_;
  app::CustomerViews& views_;
  app::BehaviourRetention& retention_;
};

}  // namespace crm::customer_store::api
