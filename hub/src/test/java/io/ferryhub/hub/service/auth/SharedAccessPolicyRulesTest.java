package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class SharedAccessPolicyRulesTest {
    private static SharedAccessPolicy policy(String name, Permission... rights) {
        return new SharedAccessPolicy(name, "cA==", "cw==", rights.length == 0 ? Set.of() : EnumSet.of(rights[0],
                rights));
    }

    private static final SharedAccessPolicy OWNER = policy("iothubowner", Permission.values());

    private static HubException refused(Runnable r) {
        return assertThrows(HubException.class, r::run);
    }

    @ParameterizedTest
    @ValueSource(strings = {"iothubowner", "team-a", "a", "registry.Read_2", "0abc"})
    void takesNamesOfLettersDigitsDotsDashesAndUnderscores(String name) {
        assertDoesNotThrow(() -> SharedAccessPolicyRules.checkName(name));
    }

    @Test
    void takesANameOf64CharactersButNot65() {
        assertDoesNotThrow(() -> SharedAccessPolicyRules.checkName("a".repeat(64)));
        HubException e = refused(() -> SharedAccessPolicyRules.checkName("a".repeat(65)));
        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-lead", ".lead", "has space", "semi;colon", "eq=ual", "sl/ash", "at@sign", "é"})
    void refusesNamesThatConnectionStringsTokensOrPathsWouldHaveToEscape(String name) {
        HubException e = refused(() -> SharedAccessPolicyRules.checkName(name));
        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
        assertTrue(e.getMessage().contains("letters, digits"), e.getMessage());
    }

    @Test
    void refusesNoName() {
        assertEquals(HubErrorCode.ArgumentInvalid, refused(() -> SharedAccessPolicyRules.checkName(null)).errorCode());
    }

    @Test
    void parsesRightsAsIotHubWritesThemAndAsTheyAreTyped() {
        assertEquals(EnumSet.of(Permission.RegistryRead, Permission.ServiceConnect),
                SharedAccessPolicyRules.parseRights("RegistryRead, ServiceConnect"));
        assertEquals(EnumSet.of(Permission.RegistryRead, Permission.ServiceConnect),
                SharedAccessPolicyRules.parseRights("serviceconnect,registryread"));
        assertEquals(EnumSet.allOf(Permission.class), SharedAccessPolicyRules.parseRights(
                "RegistryRead RegistryWrite ServiceConnect DeviceConnect"));
        assertEquals("RegistryRead, ServiceConnect", SharedAccessPolicyRules.format(
                EnumSet.of(Permission.ServiceConnect, Permission.RegistryRead)));
    }

    @Test
    void refusesNoRightsAndUnknownOnesNamingTheRightOnes() {
        for (String none : new String[] {null, "", "  ", ",", " , ,"}) {
            HubException e = refused(() -> SharedAccessPolicyRules.parseRights(none));
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
            assertTrue(e.getMessage().contains("at least one right"), e.getMessage());
        }
        HubException e = refused(() -> SharedAccessPolicyRules.parseRights("ServiceConnect, ModuleConnect"));
        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
        assertTrue(e.getMessage().contains("'ModuleConnect'") && e.getMessage().contains("DeviceConnect"),
                e.getMessage());
    }

    @Test
    void sixteenPoliciesAreAllowedASeventeenthIsNot() {
        List<SharedAccessPolicy> set = new ArrayList<>(List.of(OWNER));
        for (int i = 1; i < 16; i++) {
            set.add(policy("p" + i, Permission.ServiceConnect));
        }
        assertDoesNotThrow(() -> SharedAccessPolicyRules.checkSet(set, "adding policy 'p15'"));
        set.add(policy("p16", Permission.ServiceConnect));
        HubException e = refused(() -> SharedAccessPolicyRules.checkSet(set, "adding policy 'p16'"));
        assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode());
        assertTrue(e.getMessage().contains("at most 16"), e.getMessage());
    }

    @Test
    void theLastPolicyGrantingRegistryWriteCannotGo() {
        List<SharedAccessPolicy> noWriter = List.of(policy("all-but-write", Permission.RegistryRead,
                Permission.ServiceConnect, Permission.DeviceConnect));
        HubException e = refused(() -> SharedAccessPolicyRules.checkSet(noWriter, "deleting policy 'iothubowner'"));
        assertEquals(HubErrorCode.InvalidOperation, e.errorCode());
        assertTrue(e.getMessage().startsWith("deleting policy 'iothubowner' would leave no policy granting "
                + "RegistryWrite"), e.getMessage());
    }

    @Test
    void theLastPolicyGrantingEveryRightCannotGoEvenWithAnotherWriter() {
        List<SharedAccessPolicy> noOwner = List.of(policy("registryReadWrite", Permission.RegistryRead,
                Permission.RegistryWrite));
        HubException e = refused(() -> SharedAccessPolicyRules.checkSet(noOwner, "deleting policy 'iothubowner'"));
        assertEquals(HubErrorCode.InvalidOperation, e.errorCode());
        assertTrue(e.getMessage().contains("every right"), e.getMessage());
        assertDoesNotThrow(() -> SharedAccessPolicyRules.checkSet(List.of(OWNER), "deleting policy 'x'"));
    }
}
