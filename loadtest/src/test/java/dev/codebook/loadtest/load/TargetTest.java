package dev.codebook.loadtest.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TargetTest {

  @Test
  void parsesHostAndPortIncludingBracketedIpv6() {
    assertEquals(new Target("127.0.0.1", 7300), Target.parse("127.0.0.1:7300"));
    assertEquals(new Target("::1", 9), Target.parse("[::1]:9"));
    assertEquals("[::1]:9", Target.parse("[::1]:9").toString());
    assertEquals("localhost:1", Target.parse(" localhost:1 ").toString());
  }

  @Test
  void malformedTargetsAreRejectedWithTheReason() {
    for (String bad : new String[] {"", "7300", "host:", ":7300", "::1:7300", "h:port", "h:0",
        "h:70000"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Target.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("--target"), e.getMessage());
    }
  }

  @Test
  void onlyLoopbackUnlessRemoteIsAllowed() {
    assertTrue(Target.parse("127.0.0.1:1").isLoopback());
    assertTrue(Target.parse("localhost:1").isLoopback());
    assertTrue(Target.parse("[::1]:1").isLoopback());
    Target remote = Target.parse("192.0.2.7:7300"); // TEST-NET-1, never routed
    assertFalse(remote.isLoopback());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> remote.requireLoopback(false));
    assertTrue(e.getMessage().contains("--allow-remote"), e.getMessage());
    assertEquals(remote, remote.requireLoopback(true));
  }
}
