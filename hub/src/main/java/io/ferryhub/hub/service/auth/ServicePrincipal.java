package io.ferryhub.hub.service.auth;

import java.util.Set;

/**
 * A back-end caller authenticated by a shared access policy token (or a device token on device-scoped routes).
 *
 * @param policyName the policy that signed the token ({@code skn}), e.g. {@code iothubowner}
 * @param keyId      {@link SharedAccessPolicy#keyId} of the policy's key that signed it: what it opens is closed
 *                   when that key is regenerated or the policy deleted, and only then
 */
public record ServicePrincipal(String policyName, Set<Permission> permissions, String keyId) {
    public boolean has(Permission permission) {
        return permissions.contains(permission);
    }
}
