package io.ferryhub.hub.service.auth;

/** Authenticates back-end callers of the service API. */
public interface ServiceAuthenticator {
    /**
     * Checks an {@code Authorization} header value (a hub-scoped SAS token with {@code skn}) and that its policy
     * grants {@code required}.
     *
     * @throws io.ferryhub.common.error.HubException {@code IotHubUnauthorizedAccess} when the header is missing,
     *         malformed, expired, tampered, scoped to another resource, or its policy lacks the permission
     */
    ServicePrincipal authenticate(String authorizationHeader, Permission required);
}
