#include "libs/grpcutil/server_runner.h"

#include <algorithm>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include "absl/strings/str_cat.h"
#include "libs/observability/log.h"

namespace crm::grpcutil {

ServerRunner::ServerRunner(std::string address) : address_(std::move(address)) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  if (!address_.empty()) {
    builder_.AddListeningPort(address_, grpc::InsecureServerCredentials(), &port_);
  }
  // Bulk imports arrive as large messages (an NDJSON body is one message);
  // the gateway bounds them first (CRM_MAX_UPLOAD_BYTES, default 64 MiB).
  builder_.SetMaxReceiveMessageSize(80 * 1024 * 1024);
}

namespace {
class WithoutPlugin final : public grpc::ServerBuilderOption {
 public:
  explicit WithoutPlugin(std::string name) : name_(std::move(name)) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->erase(std::remove_if(plugins->begin(), plugins->end(),
                                  [&](const auto& p) { return p->name() == name_; }),
                   plugins->end());
  }

 private:
  std::string name_;
};
}  // namespace

void ServerRunner::DisableBuiltinReflection() {
  builder_.SetOption(std::make_unique<WithoutPlugin>("proto_server_reflection"));
}

ServerRunner::~ServerRunner() {
  if (server_ && !shutting_down_) Shutdown(absl::Seconds(1));
}

void ServerRunner::Register(grpc::Service* service) { builder_.RegisterService(service); }
void ServerRunner::RegisterGeneric(grpc::CallbackGenericService* service) {
  builder_.RegisterCallbackGenericService(service);
}

absl::Status ServerRunner::Start() {
  server_ = builder_.BuildAndStart();
  if (!server_ || (!address_.empty() && port_ == 0)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address_));
  }
  SetServing(false);
  server_->GetHealthCheckService()->SetServingStatus(kLivenessService, true);
  if (!address_.empty()) CRM_LOG(Info).Field("port", port_) << "grpc server listening";
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> ServerRunner::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(80 * 1024 * 1024);
  return server_->InProcessChannel(args);
}

void ServerRunner::SetServing(bool serving) {
  if (!server_) return;
  if (shutting_down_ && serving) return;
  server_->GetHealthCheckService()->SetServingStatus("", serving);
}

void ServerRunner::WatchReadiness(std::vector<std::function<absl::Status()>> checks,
                                  absl::Duration interval) {
  auto run = [this, interval, checks = std::move(checks)] {
    bool last = false, first = true;
    for (;;) {
      bool ok = true;
      for (const auto& c : checks) {
        absl::Status s = c();
        if (!s.ok()) {
          ok = false;
          if (first || last) CRM_LOG(Warning) << "dependency not ready: " << s.message();
          break;
        }
      }
      if (first || ok != last) {
        SetServing(ok);
        CRM_LOG(Info) << (ok ? "serving" : "not serving");
      }
      last = ok;
      first = false;
      if (stop_watch_.WaitForNotificationWithTimeout(ok ? interval : absl::Milliseconds(200))) {
        return;
      }
    }
  };
  watcher_ = std::thread(std::move(run));
}

void ServerRunner::Shutdown(absl::Duration grace) {
  shutting_down_ = true;
  if (!stop_watch_.HasBeenNotified()) stop_watch_.Notify();
  if (watcher_.joinable()) watcher_.join();
  if (!server_) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(grace)));
  server_->Wait();
  server_.reset();
}

}  // namespace crm::grpcutil
