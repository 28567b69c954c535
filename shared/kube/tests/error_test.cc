#include "zkop/kube/error.h"

#include <gtest/gtest.h>

namespace zkop::kube {
namespace {

TEST(ErrorTest, DecodesNotFoundStatus) {
  Error e = Error::FromResponse(
      404,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404})",
      std::nullopt);
  EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_EQ(e.reason(), "NotFound");
  EXPECT_EQ(e.message(), "configmaps \"x\" not found");
}

TEST(ErrorTest, AlreadyExistsIsNotConflict) {
  Error e = Error::FromResponse(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})",
                                std::nullopt);
  EXPECT_EQ(e.kind(), ErrorKind::kAlreadyExists);
  Error c =
      Error::FromResponse(409, R"({"kind":"Status","reason":"Conflict","code":409})", std::nullopt);
  EXPECT_EQ(c.kind(), ErrorKind::kConflict);
}

TEST(ErrorTest, InvalidCarriesCauses) {
  Error e = Error::FromResponse(
      422,
      R"({"kind":"Status","reason":"Invalid","message":"bad","code":422,"details":{"causes":[{"reason":"FieldValueRequired","message":"Required value","field":"spec.replicas"}]}})",
      std::nullopt);
  ASSERT_EQ(e.kind(), ErrorKind::kInvalid);
  ASSERT_EQ(e.causes().size(), 1u);
  EXPECT_EQ(e.causes()[0].field, "spec.replicas");
  EXPECT_EQ(e.causes()[0].reason, "FieldValueRequired");
  EXPECT_NE(e.ToString().find("spec.replicas: Required value"), std::string::npos);
}

TEST(ErrorTest, TooManyRequestsKeepsRetryAfter) {
  Error from_header = Error::FromResponse(429, "slow down", std::chrono::seconds(3));
  EXPECT_EQ(from_header.kind(), ErrorKind::kTooManyRequests);
  EXPECT_EQ(from_header.retry_after(), std::chrono::seconds(3));
  EXPECT_EQ(from_header.message(), "slow down");
  Error from_body = Error::FromResponse(
      429,
      R"({"kind":"Status","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":2}})",
      std::nullopt);
  EXPECT_EQ(from_body.retry_after(), std::chrono::seconds(2));
}

TEST(ErrorTest, ServerErrorsAndTimeouts) {
  EXPECT_EQ(Error::FromResponse(503, "", std::nullopt).kind(), ErrorKind::kServerError);
  EXPECT_EQ(Error::FromResponse(500, "<html>", std::nullopt).kind(), ErrorKind::kServerError);
  EXPECT_EQ(Error::FromResponse(504, "", std::nullopt).kind(), ErrorKind::kTimeout);
  EXPECT_EQ(
      Error::FromResponse(500, R"({"kind":"Status","reason":"Timeout","code":500})", std::nullopt)
          .kind(),
      ErrorKind::kTimeout);
  EXPECT_EQ(Error::FromResponse(418, "", std::nullopt).kind(), ErrorKind::kOther);
  EXPECT_EQ(Error::FromResponse(503, "", std::nullopt).message(), "HTTP 503");
}

TEST(ErrorTest, AuthErrors) {
  EXPECT_EQ(Error::FromResponse(401, "", std::nullopt).kind(), ErrorKind::kUnauthorized);
  EXPECT_EQ(
      Error::FromResponse(403, R"({"kind":"Status","reason":"Forbidden","code":403})", std::nullopt)
          .kind(),
      ErrorKind::kForbidden);
}

TEST(ErrorTest, WatchErrorEventStatusGone) {
  Json status = Json::parse(
      R"j({"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410})j");
  Error e = Error::FromStatus(status);
  EXPECT_EQ(e.kind(), ErrorKind::kGone);
  EXPECT_EQ(e.http_status(), 410);
}

TEST(ErrorTest, ResultHoldsValueOrError) {
  Result<int> ok = 5;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 5);
  Result<int> bad = Error(ErrorKind::kConflict, 409, "stale");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.Is(ErrorKind::kConflict));
  EXPECT_EQ(bad.error().ToString(), "Conflict (409): stale");
}

}  // namespace
}  // namespace zkop::kube
