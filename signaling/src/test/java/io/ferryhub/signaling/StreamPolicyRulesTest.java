package io.ferryhub.signaling;

import io.ferryhub.common.json.Json;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamPolicyRulesTest {
    private static final StreamPolicy NIGHT_SHIFT = StreamPolicy.fromJson(Json.parse("""
            {"rules": [{"name": "night", "policies": ["service"], "targets": ["10.0.0.*:22", "unix:/run/*.sock"],
                        "hours": {"days": ["Fri"], "from": "22:00", "to": "06:00", "timeZone": "UTC"}}],
             "record": true}"""));

    @Test
    void aWindowSpanningMidnightBelongsToTheDayItStarted() {
        Instant fridayLate = Instant.parse("2026-11-27T23:30:00Z");
        Instant saturdayEarly = Instant.parse("2026-11-28T05:59:00Z");
        Instant saturdayLate = Instant.parse("2026-11-28T23:30:00Z");
        Instant fridayEarly = Instant.parse("2026-11-27T05:00:00Z");
        assertNull(NIGHT_SHIFT.checkStream("service", "ssh", fridayLate));
        assertNull(NIGHT_SHIFT.checkStream("service", "ssh", saturdayEarly));
        assertEquals(StreamPolicy.Check.HOURS, NIGHT_SHIFT.checkStream("service", "ssh", saturdayLate).check());
        assertEquals(StreamPolicy.Check.HOURS, NIGHT_SHIFT.checkStream("service", "ssh", fridayEarly).check());
    }

    @Test
    void targetsAreGlobs() {
        Instant t = Instant.parse("2026-11-27T23:30:00Z");
        assertNull(NIGHT_SHIFT.checkChannel("service", "x", "10.0.0.7:22", t));
        assertNull(NIGHT_SHIFT.checkChannel("service", "x", "unix:/run/db.sock", t));
        StreamPolicy.Denial denial = NIGHT_SHIFT.checkChannel("service", "x", "10.0.0.7:2222", t);
        assertEquals(StreamPolicy.Check.TARGET, denial.check());
        assertEquals("night", denial.rule());
        assertTrue(StreamPolicy.glob("a*b*c", "aXXbYYc"));
        assertTrue(!StreamPolicy.glob("a*b", "aXXbY"));
        assertTrue(StreamPolicy.glob("*", ""));
    }

    @Test
    void theDenialNamesTheRuleThatCameClosest() {
        StreamPolicy policy = StreamPolicy.fromJson(Json.parse("""
                {"rules": [{"name": "owner", "policies": ["iothubowner"]},
                           {"name": "ops", "policies": ["service"], "streams": ["ssh"]}]}"""));
        StreamPolicy.Denial denial = policy.checkStream("service", "rdp", Instant.now());
        assertEquals("ops", denial.rule());
        assertEquals(StreamPolicy.Check.STREAM, denial.check());
        assertEquals(403902, denial.check().errorCode().code());
    }

    @Test
    void narrowingKeepsTheRulesOfTheInitiatorAndStreamAndSurvivesJson() {
        StreamPolicy narrowed = NIGHT_SHIFT.narrowTo("service", "ferryhub.tunnel.v1");
        assertEquals(1, narrowed.rules().size());
        assertTrue(narrowed.record());
        assertEquals(narrowed, StreamPolicy.fromJson(narrowed.toJson()));
        assertEquals(0, NIGHT_SHIFT.narrowTo("registryRead", "ssh").rules().size());
    }

    @Test
    void malformedPoliciesSayWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StreamPolicy.fromJson(
                Json.parse("{\"rules\":[{\"name\":\"r\",\"hours\":{\"from\":\"8h\",\"to\":\"18:00\"}}]}")));
        assertTrue(e.getMessage().contains("rules[0] ('r').hours"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StreamPolicy.fromJson(Json.parse("{\"rule\":[]}")));
        StringBuilder big = new StringBuilder("{\"rules\":[");
        for (int r = 0; r < 3; r++) {
            big.append(r == 0 ? "" : ",").append("{\"name\":\"r").append(r).append("\",\"targets\":[");
            for (int t = 0; t < 60; t++) {
                big.append(t == 0 ? "" : ",").append("\"host-").append(t).append(".example.internal:22\"");
            }
            big.append("]}");
        }
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> StreamPolicy.fromJson(Json.parse(big + "]}")));
        assertTrue(tooBig.getMessage().contains("over the limit of 4096"), tooBig.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StreamPolicy.fromJson(Json.parse(
                "{\"rules\":[{\"name\":\"r\",\"hours\":{\"days\":[\"Funday\"],\"from\":\"08:00\",\"to\":\"09:00\"}}]}")));
    }
}
