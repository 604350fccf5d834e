package io.ferryhub.hub.service.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(10)
class ServiceGrantsTest {
    private static ServicePrincipal principal(String policy, String keyId) {
        return new ServicePrincipal(policy, EnumSet.of(Permission.ServiceConnect), keyId);
    }

    @Test
    void revokingAKeyClosesWhatThatKeyOpenedAndNothingElse() {
        ServiceGrants grants = new ServiceGrants();
        List<String> closed = new CopyOnWriteArrayList<>();
        grants.hold(principal("team-a", "primary"), why -> closed.add("a-primary-1: " + why));
        grants.hold(principal("team-a", "primary"), why -> closed.add("a-primary-2: " + why));
        grants.hold(principal("team-a", "secondary"), why -> closed.add("a-secondary"));
        grants.hold(principal("team-b", "primary"), why -> closed.add("b-primary"));

        assertEquals(2, grants.revoke("team-a", Set.of("primary"), "regenerated"));
        assertEquals(Set.of("a-primary-1: regenerated", "a-primary-2: regenerated"), Set.copyOf(closed));
        assertEquals(2, grants.size(), "team-a's secondary and team-b's primary stay");
        assertEquals(0, grants.revoke("team-a", Set.of("primary"), "again"), "each is told once");
    }

    @Test
    void aReleasedGrantIsNotToldAndLeavesNothingBehind() {
        ServiceGrants grants = new ServiceGrants();
        List<String> closed = new CopyOnWriteArrayList<>();
        Runnable release = grants.hold(principal("team-a", "k"), closed::add);
        release.run();
        assertEquals(0, grants.size());
        assertEquals(0, grants.revoke("team-a", Set.of("k"), "deleted"));
        assertEquals(List.of(), closed);
    }

    @Test
    void aFailingHolderDoesNotKeepTheOthersOpen() {
        ServiceGrants grants = new ServiceGrants();
        List<String> closed = new CopyOnWriteArrayList<>();
        grants.hold(principal("p", "k"), why -> {
            throw new IllegalStateException("broken");
        });
        grants.hold(principal("p", "k"), closed::add);
        grants.revoke("p", Set.of("k"), "deleted");
        assertEquals(List.of("deleted"), closed);
    }
}
