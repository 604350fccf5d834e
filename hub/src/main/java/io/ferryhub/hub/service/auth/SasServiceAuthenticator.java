package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubException;
import io.ferryhub.common.sas.SasToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.List;

/** Back-end callers: a hub-scoped SAS token signed by a shared access policy that grants the permission needed. */
public final class SasServiceAuthenticator implements ServiceAuthenticator {
    private static final Logger log = LoggerFactory.getLogger(SasServiceAuthenticator.class);

    private final SharedAccessPolicies policies;
    private final SasVerifier verifier;

    public SasServiceAuthenticator(SharedAccessPolicies policies, HostAliases hosts, Clock clock) {
        this.policies = policies;
        this.verifier = new SasVerifier(hosts, clock);
    }

    @Override
    public ServicePrincipal authenticate(String authorizationHeader, Permission required) {
        // the transport logs a refusal, with the caller's address and what it asked for
        return check(authorizationHeader, required, List.of(), false);
    }

    @Override
    public ServicePrincipal authenticateEventHubs(String token, Permission required, List<String> resource) {
        try {
            return check(token, required, resource, true);
        } catch (HubException refused) {
            log.info("service call refused (needs {}): {}", required, AuthenticationRefused.reasonOf(refused));
            throw refused;
        }
    }

    @Override
    public ServicePrincipal authenticateKey(String policyName, String key, Permission required) {
        SharedAccessPolicy policy = policies.find(policyName).orElse(null);
        byte[] presented = key == null ? new byte[0] : key.getBytes(StandardCharsets.UTF_8);
        // both keys always compared, so timing does not tell which one matched
        boolean primary = policy != null && policy.primaryKey() != null
                && MessageDigest.isEqual(policy.primaryKey().getBytes(StandardCharsets.UTF_8), presented);
        boolean secondary = policy != null && policy.secondaryKey() != null
                && MessageDigest.isEqual(policy.secondaryKey().getBytes(StandardCharsets.UTF_8), presented);
        HubException refused = null;
        if (policy == null) {
            refused = SasVerifier.unauthorized("unknown shared access policy '" + policyName + "'");
        } else if (!(primary | secondary)) {
            refused = SasVerifier.unauthorized("the key does not match policy '" + policyName + "'");
        } else if (!policy.rights().contains(required)) {
            refused = SasVerifier.unauthorized("policy '" + policyName + "' does not grant " + required);
        }
        if (refused != null) {
            log.info("service login refused (needs {}): {}", required, AuthenticationRefused.reasonOf(refused));
            throw refused;
        }
        return new ServicePrincipal(policyName, policy.rights(),
                SharedAccessPolicy.keyId(primary ? policy.primaryKey() : policy.secondaryKey()));
    }

    /** @param keyText whether a signature made with the key's text (Event Hubs' way) counts too */
    private ServicePrincipal check(String authorizationHeader, Permission required, List<String> resource,
                                   boolean keyText) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            throw SasVerifier.unauthorized("no Authorization header");
        }
        SasToken token = verifier.parseCurrent(authorizationHeader.trim());
        String keyName = token.keyName().orElseThrow(() -> SasVerifier.unauthorized(
                "the SAS token names no shared access policy (skn); service calls need a policy token"));
        SharedAccessPolicy policy = policies.find(keyName).orElseThrow(() -> SasVerifier.unauthorized(
                "unknown shared access policy '" + keyName + "'"));
        if (!SasVerifier.covers(SasVerifier.pathSegments(token), resource)) {
            throw SasVerifier.unauthorized("the SAS token is scoped to '" + token.resource() + "', not to "
                    + (resource.isEmpty() ? "the whole hub" : "'" + String.join("/", resource) + "'"));
        }
        // both keys always checked, so timing does not tell which one matched
        boolean primary = SasVerifier.signedWith(token, policy.primaryKey(), keyText);
        boolean secondary = SasVerifier.signedWith(token, policy.secondaryKey(), keyText);
        if (!(primary | secondary)) {
            throw SasVerifier.unauthorized("the SAS token's signature does not match policy '" + keyName + "'");
        }
        if (!policy.rights().contains(required)) {
            throw SasVerifier.unauthorized("policy '" + keyName + "' does not grant " + required);
        }
        return new ServicePrincipal(keyName, policy.rights(),
                SharedAccessPolicy.keyId(primary ? policy.primaryKey() : policy.secondaryKey()));
    }
}
