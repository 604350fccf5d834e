package io.ferryhub.hub.adapter.http.management;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.common.json.Json;
import io.ferryhub.hub.adapter.http.RestRequest;
import io.ferryhub.hub.adapter.http.RestResponse;
import io.ferryhub.hub.adapter.http.RestRoutes;
import io.ferryhub.hub.service.auth.CaCertificate;
import io.ferryhub.hub.service.auth.CertificateAuthorities;
import io.ferryhub.hub.service.auth.Permission;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;

import java.util.concurrent.CompletableFuture;

/**
 * CA registration for X.509 devices. Azure does this through its management API
 * ({@code Microsoft.Devices/IotHubs/certificates}); this hub serves the same resource shape on its own REST API:
 * <pre>
 * PUT    /certificates/{name}                            {"certificate": PEM}  (or {"properties":{"certificate":...}})
 * POST   /certificates/{name}/generateVerificationCode   -> properties.verificationCode
 * POST   /certificates/{name}/verify                     {"certificate": PEM of a cert signed by the CA, CN = code}
 * GET    /certificates, GET /certificates/{name}, DELETE /certificates/{name}
 * </pre>
 */
public final class CertificateRoutes {
    private final CertificateAuthorities authorities;

    private CertificateRoutes(CertificateAuthorities authorities) {
        this.authorities = authorities;
    }

    public static void register(RestRoutes routes, CertificateAuthorities authorities) {
        CertificateRoutes r = new CertificateRoutes(authorities);
        routes.add(HttpMethod.PUT, "/certificates/{name}", Permission.RegistryWrite, r::put);
        routes.add(HttpMethod.GET, "/certificates/{name}", Permission.RegistryRead, r::get);
        routes.add(HttpMethod.GET, "/certificates", Permission.RegistryRead, r::list);
        routes.add(HttpMethod.DELETE, "/certificates/{name}", Permission.RegistryWrite, r::delete);
        routes.add(HttpMethod.POST, "/certificates/{name}/generateVerificationCode", Permission.RegistryWrite,
                r::generateVerificationCode);
        routes.add(HttpMethod.POST, "/certificates/{name}/verify", Permission.RegistryWrite, r::verify);
    }

    private CompletableFuture<RestResponse> put(RestRequest request) {
        return answer(authorities.put(request.pathParam("name"), certificateField(request), ifMatch(request)));
    }

    private CompletableFuture<RestResponse> get(RestRequest request) {
        return answer(authorities.get(request.pathParam("name")));
    }

    private CompletableFuture<RestResponse> list(RestRequest request) {
        ObjectNode out = Json.object();
        var value = out.putArray("value");
        authorities.all().forEach(c -> value.add(write(c)));
        return CompletableFuture.completedFuture(RestResponse.ok(out));
    }

    private CompletableFuture<RestResponse> delete(RestRequest request) {
        authorities.delete(request.pathParam("name"), ifMatch(request));
        return CompletableFuture.completedFuture(RestResponse.noContent());
    }

    private CompletableFuture<RestResponse> generateVerificationCode(RestRequest request) {
        return answer(authorities.generateVerificationCode(request.pathParam("name"), ifMatch(request)));
    }

    private CompletableFuture<RestResponse> verify(RestRequest request) {
        return answer(authorities.verify(request.pathParam("name"), certificateField(request), ifMatch(request)));
    }

    private static String certificateField(RestRequest request) {
        JsonNode body = request.jsonObject();
        JsonNode cert = body.has("certificate") ? body.get("certificate") : body.path("properties").get("certificate");
        if (cert == null || !cert.isTextual()) {
            throw new HubException(HubErrorCode.ArgumentNull, "The body needs a \"certificate\" string (PEM)");
        }
        return cert.asText();
    }

    private static String ifMatch(RestRequest request) {
        String value = request.header(HttpHeaderNames.IF_MATCH.toString());
        return value == null || value.isBlank() ? null : value;
    }

    private static CompletableFuture<RestResponse> answer(CaCertificate c) {
        return CompletableFuture.completedFuture(RestResponse.ok(write(c))
                .withHeader(HttpHeaderNames.ETAG.toString(), "\"" + c.etag() + "\""));
    }

    private static ObjectNode write(CaCertificate c) {
        ObjectNode out = Json.object().put("name", c.name()).put("etag", c.etag());
        ObjectNode p = out.putObject("properties");
        p.put("subject", c.subject());
        p.put("expiry", c.expiry());
        p.put("thumbprint", c.thumbprint());
        p.put("isVerified", c.verified());
        p.put("created", c.created());
        p.put("updated", c.updated());
        p.put("certificate", c.pem());
        if (c.verificationCode() != null) {
            p.put("verificationCode", c.verificationCode());
        }
        return out;
    }
}
