package io.ferryhub.common.ipfilter;

import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpFilterRulesTest {
    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void noRulesAcceptsEveryone() throws Exception {
        assertTrue(IpFilterRules.EMPTY.admits(ip("203.0.113.1")));
        assertTrue(IpFilterRules.EMPTY.admits(ip("::1")));
    }

    @Test
    void theFirstMatchingRuleDecides() throws Exception {
        // IoT Hub's own example: accept a range, reject everything else
        IpFilterRules rules = IpFilterRules.of(List.of(IpFilterRule.of("AcceptMyRange", "Accept", "192.168.100.0/22"),
                IpFilterRule.of("MaliciousIP", "Reject", "0.0.0.0/0")));
        assertTrue(rules.admits(ip("192.168.101.7")));
        assertFalse(rules.admits(ip("192.168.104.1")));
        assertTrue(rules.admits(ip("2001:db8::1")), "no rule holds an IPv6 address: accepted");
        IpFilterRules reversed = IpFilterRules.of(List.of(rules.rules().get(1), rules.rules().get(0)));
        assertFalse(reversed.admits(ip("192.168.101.7")), "order matters");
    }

    @Test
    void rulesAreInsertedWhereAsked() {
        IpFilterRules rules = IpFilterRules.EMPTY.with(IpFilterRule.of("a", "Reject", "10.0.0.1"), null)
                .with(IpFilterRule.of("b", "Reject", "10.0.0.2"), null)
                .with(IpFilterRule.of("first", "Accept", "10.0.0.0/8"), 0)
                .with(IpFilterRule.of("far", "Accept", "10.0.0.3"), 99);
        assertEquals(List.of("first", "a", "b", "far"), rules.rules().stream().map(IpFilterRule::name).toList());
        assertEquals(List.of("first", "b", "far"), rules.without("A").rules().stream().map(IpFilterRule::name)
                .toList(), "names are case-insensitive");
        assertSame(rules, rules.without("nope"));
        assertThrows(IllegalArgumentException.class, () -> rules.with(IpFilterRule.of("x", "Accept", "::1"), -1));
    }

    @Test
    void namesAreUniqueRegardlessOfCase() {
        IpFilterRules one = IpFilterRules.EMPTY.with(IpFilterRule.of("Office", "Accept", "10.0.0.0/8"), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> one.with(IpFilterRule.of("OFFICE", "Reject", "::1"), null));
        assertTrue(e.getMessage().contains("exists already"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IpFilterRules.of(List.of(
                IpFilterRule.of("x", "Accept", "::1"), IpFilterRule.of("X", "Accept", "::2"))));
    }

    @Test
    void atMostMaxRules() {
        List<IpFilterRule> rules = new ArrayList<>();
        for (int i = 0; i < IpFilterRules.MAX_RULES; i++) {
            rules.add(IpFilterRule.of("r" + i, "Reject", "10.0.0." + (i % 250)));
        }
        IpFilterRules full = IpFilterRules.of(rules);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> full.with(IpFilterRule.of("one-more", "Reject", "::1"), null));
        assertTrue(e.getMessage().contains("at most " + IpFilterRules.MAX_RULES), e.getMessage());
    }

    @Test
    void namesFollowIotHubsCharacterSet() {
        IpFilterRule.of("a-:/\\.+%_#*?!(),=@;'Z9", "Accept", "::1");
        for (String bad : new String[] {"", "with space", "é", "x".repeat(129), "a<b", "a\"b"}) {
            assertThrows(IllegalArgumentException.class, () -> IpFilterRule.of(bad, "Accept", "::1"), bad);
        }
        assertEquals(IpFilterRule.Action.Accept, IpFilterRule.of("x", "allow", "::1").action());
        assertEquals(IpFilterRule.Action.Reject, IpFilterRule.of("x", "REJECT", "::1").action());
        assertThrows(IllegalArgumentException.class, () -> IpFilterRule.of("x", "Block", "::1"));
    }

    @Test
    void jsonRoundTripsInIotHubsShape() {
        IpFilterRules rules = IpFilterRules.fromJson(Json.parse("{\"ipFilterRules\":[{\"filterName\":\"MaliciousIP\","
                + "\"action\":\"Reject\",\"ipMask\":\"6.6.6.6/6\"},{\"filterName\":\"GoodIP\",\"action\":\"Allow\","
                + "\"ipMask\":\"131.107.160.200\"}]}"));
        assertEquals("{\"ipFilterRules\":[{\"filterName\":\"MaliciousIP\",\"action\":\"Reject\",\"ipMask\":"
                + "\"6.6.6.6/6\"},{\"filterName\":\"GoodIP\",\"action\":\"Accept\",\"ipMask\":\"131.107.160.200\"}]}",
                Json.toString(rules.toJson()));
        assertEquals(rules, IpFilterRules.fromJson(rules.toJson()));
        assertEquals(rules, IpFilterRules.fromJson(rules.toJson().get("ipFilterRules")), "a bare array too");
    }

    @Test
    void aBadRuleInABulkDocumentNamesItsPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpFilterRules.fromJson(
                Json.parse("[{\"filterName\":\"ok\",\"action\":\"Accept\",\"ipMask\":\"::1\"},"
                        + "{\"filterName\":\"bad\",\"action\":\"Accept\",\"ipMask\":\"10.0.0.0/40\"}]")));
        assertTrue(e.getMessage().startsWith("rule 2: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IpFilterRules.fromJson(Json.parse("{\"rules\":[]}")));
        assertThrows(IllegalArgumentException.class, () -> IpFilterRules.fromJson(Json.parse("[{\"filterName\":1,"
                + "\"action\":\"Accept\",\"ipMask\":\"::1\"}]")));
    }
}
