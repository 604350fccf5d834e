package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import io.ferryhub.testsupport.fuzz.Fuzzer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever a caller sends as a policy's name or rights is either taken or refused with 400 ArgumentInvalid: no
 * other exception, no empty set of rights, no name outside the documented characters.
 */
@Timeout(120)
class SharedAccessPolicyRulesFuzzTest {
    @Test
    void namesAndRightsAreTakenOrRefusedAsArgumentInvalid() throws Exception {
        long ran = Fuzzer.forCorpus("policy-rights")
                .dictionary("RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect", ",", " ", "-", ".")
                .run(input -> {
                    String text = new String(input, StandardCharsets.UTF_8);
                    try {
                        Set<Permission> rights = SharedAccessPolicyRules.parseRights(text);
                        assertFalse(rights.isEmpty());
                    } catch (HubException e) {
                        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
                    }
                    try {
                        SharedAccessPolicyRules.checkName(text);
                        assertTrue(text.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}"), text);
                    } catch (HubException e) {
                        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
                    }
                });
        assertTrue(ran > 3);
    }
}
