package io.ferryhub.hub.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HostAliasesTest {
    private final HostAliases aliases = new HostAliases("Hub.Example", Set.of("localhost", "::1", "127.0.0.1"));

    @Test
    void theHostNameKeepsItsCaseButMatchingIgnoresIt() {
        assertEquals("Hub.Example", aliases.hostName());
        assertTrue(aliases.all().contains("hub.example"));
        assertTrue(aliases.isOwn("HUB.EXAMPLE"));
        assertTrue(aliases.isOwn("LocalHost"));
    }

    @Test
    void portsAreIgnoredAndBareIpv6HasNone() {
        assertTrue(aliases.isOwn("hub.example:443"));
        assertTrue(aliases.isOwn("[::1]:8443"));
        assertTrue(aliases.isOwn("::1"));
        assertTrue(aliases.isOwn("127.0.0.1:5671"));
        assertEquals("::1", HostAliases.withoutPort("[::1]"));
        assertEquals("[::1", HostAliases.withoutPort("[::1"));
        assertEquals("fe80::1", HostAliases.withoutPort("fe80::1"));
    }

    @Test
    void otherNamesAndNothingAreNotOwn() {
        for (String other : new String[] {null, "", "hub.example.evil", "evil.hub.example", "hub", "[::2]:1", ":443"}) {
            assertFalse(aliases.isOwn(other), String.valueOf(other));
        }
        assertEquals(List.of("hub.example"), List.copyOf(new HostAliases("hub.example", Set.of()).all()));
    }
}
