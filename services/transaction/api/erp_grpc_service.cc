#include "services/transaction/api/erp_grpc_service.h"

#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/status_macros.h"
#include "libs/grpcutil/context.h"
#include "libs/grpcutil/proto_util.h"
#include "libs/grpcutil/streaming.h"
#include "libs/grpcutil/write_meta.h"
#include "services/transaction/api/grpc_service.h"

namespace crm::transaction::api {
namespace {

using grpcutil::RequestContext;

constexpr char kExportScope[] = "erp-export";

v1::IngestOrderResult::Outcome OutcomeOf(app::IngestOutcome o) {
  switch (o) {
    case app::IngestOutcome::kCreated:
      return v1::IngestOrderResult::OUTCOME_CREATED;
    case app::IngestOutcome::kAlreadyExists:
      return v1::IngestOrderResult::OUTCOME_ALREADY_EXISTS;
    case app::IngestOutcome::kRejected:
      return v1::IngestOrderResult::OUTCOME_REJECTED;
    default:
      return v1::IngestOrderResult::OUTCOME_UNSPECIFIED;
  }
}

class IngestReactor final
    : public grpc::ServerBidiReactor<v1::IngestOrdersRequest, v1::IngestOrdersResponse> {
 public:
  IngestReactor(grpc::CallbackServerContext* ctx, app::Erp& erp, common::Executor& executor,
                grpcutil::RpcMetrics& metrics)
      : erp_(erp), executor_(executor), call_(ctx, metrics, "IngestOrders") {
    if (absl::Status s = call_.ReadContext(); !s.ok()) {
      call_.Finish(this, s);
      return;
    }
    StartRead(&request_);
  }

  // One operation is outstanding at any time (read, then the batch's work,
  // then its write), so the reactions never run concurrently.
  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed (or went away)
      call_.Finish(this, call_.cancelled() ? grpcutil::ClientGoneError() : absl::OkStatus());
      return;
    }
    call_.Offload(this, executor_, [this] { return Batch(); },
                  [this](const absl::Status& s) {
                    if (!s.ok()) {
                      call_.Finish(this, s);
                      return;
                    }
                    StartWrite(&response_);
                  });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      call_.Finish(this, absl::CancelledError("the client stopped reading"));
      return;
    }
    request_.Clear();
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Batch() {
    response_.Clear();
    if (request_.orders_size() > app::kMaxIngestBatch) {
      // Refused before decoding anything.
      return common::InvalidField(
          "orders", absl::StrCat("a batch carries at most ", app::kMaxIngestBatch,
                                 " orders, this one ", request_.orders_size(),
                                 "; split it into smaller batches"));
    }
    std::vector<app::IngestInput> inputs(static_cast<size_t>(request_.orders_size()));
    for (int i = 0; i < request_.orders_size(); ++i) {
      const v1::Order& in = request_.orders(i);
      absl::StatusOr<domain::Order> o = ErpOrderFromProto(in);
      if (o.ok()) {
        inputs[i].order = *std::move(o);
        if (in.has_customer_ref()) inputs[i].customer_ref = CustomerRefFromProto(in.customer_ref());
      } else {
        inputs[i].order.external_id = in.external_id();
        inputs[i].parse_error = o.status();
      }
    }
    const RequestContext& rc = call_.rc();
    app::Actor actor = grpcutil::WriteMetaOf(rc, "IngestOrders");
    CRM_ASSIGN_OR_RETURN(app::IngestReport report,
                         erp_.Ingest(actor, request_.batch_id(), std::move(inputs)));
    response_.set_batch_id(request_.batch_id());
    response_.set_created(report.created);
    response_.set_already_existing(report.already_existing);
    response_.set_rejected(report.rejected);
    for (const app::IngestRowResult& r : report.results) {
      v1::IngestOrderResult* x = response_.add_results();
      x->set_index(r.index);
      x->set_external_id(r.external_id);
      x->set_outcome(OutcomeOf(r.outcome));
      x->set_order_id(r.order_id);
      x->set_field(r.field);
      x->set_reason(r.reason);
      x->set_message(r.message);
    }
    ++batches_;
    return absl::OkStatus();
  }

  app::Erp& erp_;
  common::Executor& executor_;
  grpcutil::StreamCall call_;
  v1::IngestOrdersRequest request_;
  v1::IngestOrdersResponse response_;
  int64_t batches_ = 0;
};

class ExportReactor final : public grpc::ServerWriteReactor<v1::ExportOrdersResponse> {
 public:
  ExportReactor(grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* req,
                app::Erp& erp, common::Executor& executor, grpcutil::RpcMetrics& metrics,
                const common::PageTokenCodec& tokens)
      : erp_(erp),
        executor_(executor),
        tokens_(tokens),
        page_size_(req->page_size()),
        call_(ctx, metrics, "ExportOrders") {
    if (absl::Status s = call_.ReadContext(); !s.ok()) {
      call_.Finish(this, s);
      return;
    }
    if (!req->cursor().empty()) {
      auto cursor = tokens_.Decode(call_.rc().tenant_id, kExportScope, req->cursor());
      if (!cursor.ok()) {
        call_.Finish(this, common::WithField(
                               common::WithReason(absl::InvalidArgumentError(
                                                      "cursor is invalid (or another tenant's)"),
                                                  "INVALID_PAGE_TOKEN"),
                               "cursor"));
        return;
      }
      cursor_ = *std::move(cursor);
    }
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      call_.Finish(this, absl::CancelledError("the client stopped reading"));
      return;
    }
    if (last_) {
      call_.Finish(this, absl::OkStatus());
      return;
    }
    Next();
  }

  void OnDone() override { delete this; }

 private:
  // Fetches the next page on the executor, then writes it.
  void Next() {
    call_.Offload(this, executor_, [this] { return Page(); },
                  [this](const absl::Status& s) {
                    if (!s.ok()) {
                      call_.Finish(this, s);
                      return;
                    }
                    StartWrite(&response_);
                  });
  }

  absl::Status Page() {
    response_.Clear();
    CRM_ASSIGN_OR_RETURN(app::ExportPage page, erp_.Export(call_.rc().tenant_id, cursor_, page_size_));
    for (const domain::Order& o : page.orders) {
      v1::Order* out = response_.add_orders();
      ToProto(o, out);
      out->set_external_id(o.external_id);
      out->set_paid_minor(o.paid_minor);
      out->set_returned_minor(o.returned_minor);
      out->set_refunded_minor(o.refunded_minor);
      out->set_net_minor(domain::NetMinor(o));
      for (size_t i = 0; i < o.lines.size() && static_cast<int>(i) < out->lines_size(); ++i) {
        out->mutable_lines(static_cast<int>(i))->set_returned_quantity(o.lines[i].returned_quantity);
      }
    }
    if (!page.next_cursor.empty()) cursor_ = page.next_cursor;
    response_.set_cursor(tokens_.Encode(call_.rc().tenant_id, kExportScope, cursor_));
    response_.set_caught_up(page.caught_up);
    response_.set_held_back(page.held_back);
    last_ = page.caught_up || page.held_back;
    return absl::OkStatus();
  }

  app::Erp& erp_;
  common::Executor& executor_;
  const common::PageTokenCodec& tokens_;
  int page_size_;
  grpcutil::StreamCall call_;
  std::string cursor_;
  bool last_ = false;
  v1::ExportOrdersResponse response_;
};

}  // namespace

absl::StatusOr<domain::Order> ErpOrderFromProto(const v1::Order& o) {
  domain::Order d;
  d.external_id = o.external_id();
  d.customer_id = o.customer_id();
  d.currency_code = o.currency_code();
  d.lines.reserve(static_cast<size_t>(o.lines_size()));
  for (const auto& l : o.lines()) {
    domain::OrderLine line;
    line.sku = l.sku();
    line.quantity = l.quantity();
    line.unit_price_minor = l.unit_price_minor();
    line.discount_minor = l.discount_minor();
    d.lines.push_back(std::move(line));
  }
  d.total_minor = o.total_minor();
  if (!v1::SalesChannel_IsValid(o.channel())) {
    return common::InvalidField("channel", "unknown channel");
  }
  d.channel = static_cast<domain::SalesChannel>(o.channel());
  d.store_id = o.store_id();
  if (o.has_placed_time()) {
    if (o.placed_time().seconds() < 0 || o.placed_time().seconds() > 253402300799LL ||
        o.placed_time().nanos() < 0 || o.placed_time().nanos() > 999999999) {
      return common::InvalidField("placed_time", "placed_time is not a valid timestamp");
    }
    d.placed_time = grpcutil::FromTimestamp(o.placed_time());
  }
  return d;
}

grpc::ServerBidiReactor<v1::IngestOrdersRequest, v1::IngestOrdersResponse>*
ErpGrpcService::IngestOrders(grpc::CallbackServerContext* ctx) {
  return new IngestReactor(ctx, erp_, executor_, metrics_);
}

grpc::ServerWriteReactor<v1::ExportOrdersResponse>* ErpGrpcService::ExportOrders(
    grpc::CallbackServerContext* ctx, const v1::ExportOrdersRequest* req) {
  return new ExportReactor(ctx, req, erp_, executor_, metrics_, tokens_);
}

}  // namespace crm::transaction::api
