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

    /**
     * Checks a SAS token as Event Hubs clients make them for the built-in endpoint: signed by a policy granting
     * {@code required}, with the key's text as the HMAC key (Event Hubs' way) or the key decoded (IoT Hub's), for
     * the whole hub or for a path that covers {@code resource} by whole segments (e.g. {@code myhub} covers
     * {@code myhub/ConsumerGroups/$Default/Partitions/0}).
     *
     * @param resource the path below the host the token is used for, as lower-case segments
     * @throws io.ferryhub.common.error.HubException {@code IotHubUnauthorizedAccess} as for {@link #authenticate}
     */
    ServicePrincipal authenticateEventHubs(String token, Permission required, java.util.List<String> resource);

    /**
     * Checks a policy's name and one of its keys as such (Event Hubs clients' SASL PLAIN login) and that the policy
     * grants {@code required}.
     *
     * @throws io.ferryhub.common.error.HubException {@code IotHubUnauthorizedAccess} for an unknown policy, a wrong
     *         key or a missing permission
     */
    ServicePrincipal authenticateKey(String policyName, String key, Permission required);
}
