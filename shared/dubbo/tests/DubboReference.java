// The JDK as the reference for what Apache Dubbo writes (single-file source launch:
// `java DubboReference.java <mode>`). Input and output are hex-encoded UTF-8, one item a line.
//   encode      stdin: hex(text)                    -> URLEncoder.encode(text, "UTF-8")
//   provider    stdin: "protocol host port path", then "hex(key) hex(value)" lines
//                                                   -> URL.encode(toFullString()) as Dubbo builds it
//   properties  args: files   -> per file "FILE", then "hex(key) hex(value)" per entry, sorted,
//                                or "ERROR <message>"
//   metadata    stdin: per application "APP hex(app)", then per service "SERVICE hex(name)
//               hex(group) hex(version) hex(protocol) port hex(path)" followed by its
//               provider URL's "hex(key) hex(value)" lines
//                 -> per application: hex(the string MetadataInfo.calAndGetRevision hashes),
//                    the revision, and hex(the metadata report JSON)
//   mapping     stdin: "hex(content) hex(app)" lines
//                 -> per line: hex(new content) or "-" when the app is there already, then
//                    the application names getAppNames reads from the result, hex, sorted
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

public class DubboReference {
  static String hex(String s) {
    StringBuilder b = new StringBuilder();
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) b.append(String.format("%02x", x & 0xff));
    return b.toString();
  }

  static String unhex(String h) {
    byte[] out = new byte[h.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    switch (args[0]) {
      case "encode": {
        for (String line; (line = in.readLine()) != null; ) {
          System.out.println(URLEncoder.encode(unhex(line), "UTF-8"));
        }
        break;
      }
      case "provider": {
        String[] head = in.readLine().split(" ");
        TreeMap<String, String> params = new TreeMap<>();
        for (String line; (line = in.readLine()) != null; ) {
          if (line.isEmpty()) continue;
          String[] kv = line.split(" ", -1);
          params.put(unhex(kv[0]), unhex(kv[1]));
        }
        // URL.buildString(appendUser=true, appendParameter=true): protocol://host:port/path?k=v&...
        StringBuilder url = new StringBuilder();
        url.append(head[0]).append("://").append(head[1]);
        if (Integer.parseInt(head[2]) > 0) url.append(':').append(head[2]);
        url.append('/').append(head[3]);
        boolean first = true;
        for (Map.Entry<String, String> e : params.entrySet()) {
          url.append(first ? '?' : '&');
          first = false;
          url.append(e.getKey()).append('=').append(e.getValue());
        }
        System.out.println(URLEncoder.encode(url.toString(), "UTF-8"));
        break;
      }
      case "properties": {
        for (int i = 1; i < args.length; i++) {
          System.out.println("FILE");
          Properties p = new Properties();
          try (FileInputStream f = new FileInputStream(args[i])) {
            p.load(f);
          } catch (IllegalArgumentException e) {
            System.out.println("ERROR " + e.getMessage());
            continue;
          }
          TreeMap<String, String> sorted = new TreeMap<>();
          for (String k : p.stringPropertyNames()) sorted.put(k, p.getProperty(k));
          for (Map.Entry<String, String> e : sorted.entrySet()) {
            System.out.println(hex(e.getKey()) + " " + hex(e.getValue()));
          }
        }
        break;
      }
      case "metadata":
        Metadata.run(in);
        break;
      case "mapping": {
        for (String line; (line = in.readLine()) != null; ) {
          String[] parts = line.split(" ", -1);
          String content = unhex(parts[0]);
          String app = unhex(parts[1]);
          String updated = Metadata.map(content, app);
          System.out.println(updated == null ? "-" : hex(updated));
          StringBuilder names = new StringBuilder();
          for (String n : Metadata.getAppNames(updated == null ? content : updated)) {
            names.append(names.length() == 0 ? "" : " ").append(hex(n));
          }
          System.out.println(names);
        }
        break;
      }
      default:
        throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  // Dubbo 3.3's MetadataInfo / ServiceInfo revision path, restated on JDK types: the same
  // filter (DefaultMetadataParamsFilter.serviceParamsExcluded with equalsIgnoreCase and
  // contains), the same map types (HashMap, TreeMap), TreeMap.toString, MessageDigest MD5
  // and MD5Utils' hex digits; MetadataServiceNameMapping.map and ServiceNameMapping.getAppNames.
  static class Metadata {
    static final String[] EXCLUDED = {
      "monitor", "bind.ip", "bind.port", "qos.enable", "qos.host", "qos.port",
      "qos.accept.foreign.ip", "validation", "interfaces", "pid", "timestamp",
      "heartbeat.timeout", "ipv6"
    };

    static class ServiceInfo {
      String name, group, version, protocol, path;
      int port;
      Map<String, String> params = new HashMap<>();

      String serviceKey() {
        StringBuilder b = new StringBuilder();
        if (group != null && !group.isEmpty()) b.append(group).append('/');
        b.append(name);
        if (version != null && !version.isEmpty()) b.append(':').append(version);
        return b.toString();
      }

      String matchKey() {
        return protocol != null && !protocol.isEmpty() ? serviceKey() + ":" + protocol : serviceKey();
      }

      String toDescString() {
        return matchKey() + port + path + new TreeMap<>(params);
      }
    }

    static String md5(String input) throws Exception {
      char[] hexDigits = "0123456789abcdef".toCharArray();
      byte[] md5 = MessageDigest.getInstance("MD5").digest(input.getBytes(StandardCharsets.UTF_8));
      char[] str = new char[md5.length * 2];
      int k = 0;
      for (byte b : md5) {
        str[k++] = hexDigits[b >>> 4 & 0xf];
        str[k++] = hexDigits[b & 0xf];
      }
      return new String(str);
    }

    static void json(StringBuilder b, String s) {
      b.append('"');
      for (char c : s.toCharArray()) {
        if (c == '"') b.append("\\\"");
        else if (c == '\\') b.append("\\\\");
        else if (c == '\n') b.append("\\n");
        else if (c == '\r') b.append("\\r");
        else if (c == '\t') b.append("\\t");
        else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
        else b.append(c);
      }
      b.append('"');
    }

    static void run(BufferedReader in) throws Exception {
      String app = null;
      List<ServiceInfo> order = new ArrayList<>();
      ServiceInfo current = null;
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] p = line.split(" ", -1);
        if (p[0].equals("APP")) {
          if (app != null) print(app, order);
          app = unhex(p[1]);
          order = new ArrayList<>();
        } else if (p[0].equals("SERVICE")) {
          current = new ServiceInfo();
          current.name = unhex(p[1]);
          current.group = unhex(p[2]);
          current.version = unhex(p[3]);
          current.protocol = unhex(p[4]);
          current.port = Integer.parseInt(p[5]);
          current.path = unhex(p[6]);
          order.add(current);
        } else {
          String key = unhex(p[0]);
          boolean add = true;
          for (String ex : EXCLUDED) {
            if (key.equalsIgnoreCase(ex) || key.contains("." + ex)) add = false;
          }
          if (add) current.params.put(key, unhex(p[1]));
        }
      }
      if (app != null) print(app, order);
    }

    static void print(String app, List<ServiceInfo> order) throws Exception {
      Map<String, ServiceInfo> services = new HashMap<>();
      for (ServiceInfo s : order) services.put(s.matchKey(), s);
      StringBuilder sb = new StringBuilder();
      sb.append(app);
      for (Map.Entry<String, ServiceInfo> e : new TreeMap<>(services).entrySet()) {
        sb.append(e.getValue().toDescString());
      }
      String revision = services.isEmpty() ? "0" : md5(sb.toString());
      System.out.println(hex(sb.toString()));
      System.out.println(revision);
      StringBuilder j = new StringBuilder("{\"app\":");
      json(j, app);
      j.append(",\"revision\":");
      json(j, revision);
      j.append(",\"services\":{");
      boolean first = true;
      for (Map.Entry<String, ServiceInfo> e : new TreeMap<>(services).entrySet()) {
        ServiceInfo s = e.getValue();
        if (!first) j.append(',');
        first = false;
        json(j, e.getKey());
        j.append(":{");
        if (!s.group.isEmpty()) {
          j.append("\"group\":");
          json(j, s.group);
          j.append(',');
        }
        j.append("\"name\":");
        json(j, s.name);
        j.append(",\"params\":{");
        boolean firstParam = true;
        for (Map.Entry<String, String> p : new TreeMap<>(s.params).entrySet()) {
          if (!firstParam) j.append(',');
          firstParam = false;
          json(j, p.getKey());
          j.append(':');
          json(j, p.getValue());
        }
        j.append("},\"path\":");
        json(j, s.path);
        j.append(",\"port\":").append(s.port).append(",\"protocol\":");
        json(j, s.protocol);
        if (!s.version.isEmpty()) {
          j.append(",\"version\":");
          json(j, s.version);
        }
        j.append('}');
      }
      j.append("}}");
      System.out.println(hex(j.toString()));
    }

    // MetadataServiceNameMapping.map's compare-and-set body: null when nothing to write.
    static String map(String oldConfigContent, String appName) {
      String newConfigContent = appName;
      if (oldConfigContent != null && !oldConfigContent.isEmpty()) {
        for (String oldAppName : oldConfigContent.split(",")) {
          if (oldAppName.trim().equals(appName)) return null;
        }
        newConfigContent = oldConfigContent + "," + appName;
      }
      return newConfigContent;
    }

    static TreeSet<String> getAppNames(String content) {
      TreeSet<String> names = new TreeSet<>();
      if (content == null || content.trim().isEmpty()) return names;
      for (String n : content.split(",")) {
        if (!n.trim().isEmpty()) names.add(n.trim());
      }
      return names;
    }
  }
}
