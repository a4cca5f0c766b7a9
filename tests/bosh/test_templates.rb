# Checks every job of bosh-jobs/: spec structure, every template rendered with each case of
# tests/bosh/cases/<job>.yml, declared properties all used and used ones all declared,
# renders that must fail, and docs/bosh.md's property tables in step with the specs.
# Usage: ruby test_templates.rb REPO_ROOT          (exit 0 when every check passes)
#        ruby test_templates.rb REPO_ROOT --tables (print the property tables for docs/bosh.md)
require 'json'
require 'set'
require 'yaml'
require_relative 'render'

ROOT = File.expand_path(ARGV[0] || File.join(__dir__, '..', '..'))
JOBS = File.join(ROOT, 'bosh-jobs', 'jobs')
PACKAGES = File.join(ROOT, 'bosh-jobs', 'packages')
CASES = File.join(__dir__, 'cases')

# Placeholder PEM text: rendering does not parse it (the broker tests use real files).
FAKE_TLS = {
  'certificate' => "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  'private_key' => "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
}.freeze

def job_dirs
  Dir.children(JOBS).sort.map { |d| File.join(JOBS, d) }.select { |d| File.directory?(d) }
end

def cell(text)
  text.to_s.gsub(/\s+/, ' ').strip.gsub('|', '\\|')
end

# One markdown table per job, the way docs/bosh.md shows them.
def property_table(job)
  rows = job.properties.sort.map do |name, decl|
    decl ||= {}
    default = decl.key?('default') ? "`#{cell(JSON.generate(decl['default']))}`" : '–'
    "| `#{name}` | #{default} | #{cell(decl['description'])} |"
  end
  (["| property | default | description |", '|---|---|---|'] + rows).join("\n")
end

$failures = []
$checks = 0
def check(ok, message)
  $checks += 1
  $failures << message unless ok
  ok
end

def check_spec(job)
  spec = job.spec
  check(spec['templates'].is_a?(Hash) && !spec['templates'].empty?, "#{job.name}: spec lists no templates")
  listed = (spec['templates'] || {}).keys.to_set
  on_disk = Dir.glob('**/*', base: File.join(job.dir, 'templates')).select do |f|
    File.file?(File.join(job.dir, 'templates', f))
  end
  on_disk.each { |f| check(listed.include?(f), "#{job.name}: templates/#{f} is not listed in the spec") }
  check(File.file?(File.join(job.dir, 'monit')), "#{job.name}: no monit file")
  (spec['packages'] || []).each do |pkg|
    pspec = File.join(PACKAGES, pkg, 'spec')
    check(File.file?(pspec) && YAML.safe_load(File.read(pspec))['name'] == pkg,
          "#{job.name}: package #{pkg} has no bosh-jobs/packages/#{pkg}/spec naming it")
    check(File.file?(File.join(PACKAGES, pkg, 'packaging')), "#{job.name}: package #{pkg} has no packaging script")
  end
  job.properties.each do |name, decl|
    check(decl.is_a?(Hash) && decl['description'].to_s.strip != '', "#{job.name}: property #{name} has no description")
  end
  (job.consumes + job.provides).each do |l|
    check(l['name'].to_s != '' && l['type'].to_s != '', "#{job.name}: a link lacks a name or a type")
  end
  job.provides.each do |l|
    (l['properties'] || []).each do |n|
      check(job.properties.key?(n), "#{job.name}: link #{l['name']} exposes undeclared property #{n}")
    end
  end
end

# The rendered files must be what their names say.
def check_output(job, case_name, files)
  files.each do |dest, text|
    where = "#{job.name} (#{case_name}): #{dest}"
    if dest.end_with?('.json')
      next if dest == 'config/catalog.json' && text.strip.empty?
      begin
        JSON.parse(text)
      rescue JSON::ParserError => e
        check(false, "#{where}: not JSON: #{e.message.lines.first}")
      end
    elsif dest.end_with?('.yml')
      doc = YAML.safe_load(text)
      if File.basename(dest) == 'bpm.yml'
        procs = doc.is_a?(Hash) ? doc['processes'] : nil
        check(procs.is_a?(Array) && !procs.empty?, "#{where}: no processes")
        (procs || []).each do |pr|
          check(pr['name'].to_s != '', "#{where}: a process has no name")
          exe = pr['executable'].to_s
          pkg = exe[%r{\A/var/vcap/packages/([^/]+)/}, 1]
          check(pkg && (job.spec['packages'] || []).include?(pkg),
                "#{where}: executable #{exe} is not in one of the job's packages")
          (pr['additional_volumes'] || []).each do |v|
            check(v['path'].to_s.start_with?('/var/vcap/data/', '/var/vcap/store/', '/var/vcap/sys/run/'),
                  "#{where}: BPM refuses volume #{v['path']} (outside /var/vcap/data, store, sys/run)")
          end
        end
      end
    elsif dest.start_with?('bin/')
      check(text.start_with?("#!/usr/bin/env bash\n", "#!/bin/bash\n"), "#{where}: no bash shebang")
    end
  end
end

# A case's `expect`: {rendered file => what it must hold}. For a JSON or YAML file a subset
# of its document (objects compared key by key, null = the key is absent, lists item by
# item with the same length); for any other file its text without surrounding blank space.
# Returns the first difference, or nil.
def expect_mismatch(want, got, path)
  if want.is_a?(Hash)
    return "#{path}: expected an object, got #{got.inspect}" unless got.is_a?(Hash)
    want.each do |k, v|
      if v.nil?
        return "#{path}.#{k}: expected no such key, got #{got[k].inspect}" if got.key?(k)
        next
      end
      return "#{path}.#{k}: missing" unless got.key?(k)
      m = expect_mismatch(v, got[k], "#{path}.#{k}")
      return m if m
    end
    nil
  elsif want.is_a?(Array)
    return "#{path}: expected a list of #{want.size}, got #{got.inspect}" unless got.is_a?(Array) && got.size == want.size
    want.each_with_index do |w, i|
      m = expect_mismatch(w, got[i], "#{path}[#{i}]")
      return m if m
    end
    nil
  elsif want != got
    "#{path}: expected #{want.inspect}, got #{got.inspect}"
  end
end

def check_expect(job, case_name, files, expect)
  (expect || {}).each do |dest, want|
    where = "#{job.name} (#{case_name}): #{dest}"
    next check(false, "#{where}: not rendered") unless files.key?(dest)
    got = if dest.end_with?('.json')
            JSON.parse(files[dest])
          elsif dest.end_with?('.yml')
            YAML.safe_load(files[dest])
          else
            files[dest].strip
          end
    want = want.strip if want.is_a?(String) && !dest.end_with?('.json', '.yml')
    mismatch = expect_mismatch(want, got, dest)
    check(mismatch.nil?, "#{job.name} (#{case_name}): #{mismatch}")
  end
end

def cases_for(job)
  file = File.join(CASES, "#{job.name}.yml")
  return [file, nil] unless File.file?(file)
  [file, YAML.safe_load(File.read(file))]
end

def run_checks
  jobs = job_dirs.map { |d| BoshRender::Job.new(d) }
  check(jobs.any? { |j| j.name == 'postgresql-broker' }, 'no postgresql-broker job')
  %w[broker-registrar broker-deregistrar].each { |e| check(jobs.any? { |j| j.name == e }, "no #{e} errand") }
  docs_path = File.join(ROOT, 'docs', 'bosh.md')
  docs = File.file?(docs_path) ? File.read(docs_path) : ''
  check(!docs.empty?, 'docs/bosh.md is missing')

  jobs.each do |job|
    check_spec(job)
    file, cases = cases_for(job)
    next unless check(cases.is_a?(Hash), "#{job.name}: no cases in #{file}")
    %w[minimal full].each { |c| check(cases.key?(c), "#{job.name}: #{file} has no #{c} case") }
    used = Set.new
    cases.each do |case_name, c|
      next if case_name == 'errors'
      props, links = BoshRender.load_case(JOBS, file, case_name)
      if case_name == 'full' && job.properties.key?('broker.tls.certificate')
        BoshRender.store(props, 'broker.tls', FAKE_TLS.dup)
      end
      begin
        files, used_now = job.render(props, links: links)
        used.merge(used_now)
        check_output(job, case_name, files)
        check_expect(job, case_name, files, c['expect'])
        puts "ok   #{job.name}: #{case_name} renders (#{files.size} files)"
      rescue BoshRender::Error => e
        check(false, "#{job.name} (#{case_name}): #{e.message}")
      end
    end
    (job.properties.keys.to_set - used).sort.each do |n|
      check(false, "#{job.name}: property #{n} is declared but no template uses it in any case")
    end
    (cases['errors'] || {}).each do |err_name, c|
      props = c['properties'] || {}
      begin
        links = BoshRender.resolve_links(JOBS, CASES, c['links'])
      rescue BoshRender::Error => e
        check(false, "#{job.name}: error case #{err_name}: #{e.message}")
        next
      end
      begin
        job.render(props, links: links)
        check(false, "#{job.name}: error case #{err_name} rendered, expected /#{c['message']}/")
      rescue BoshRender::Error => e
        if check(e.message =~ Regexp.new(c['message']), "#{job.name}: error case #{err_name}: got '#{e.message}', expected /#{c['message']}/")
          puts "ok   #{job.name}: #{err_name} is refused (#{e.message})"
        end
      end
    end
    check(docs.include?(property_table(job)),
          "#{job.name}: docs/bosh.md does not hold its current property table (ruby tests/bosh/test_templates.rb . --tables)")
  end

  check_docs_manifest(jobs, docs)

  # Every broker of the suite should have a job; a new one without is reported, not failed,
  # so that adding a broker never breaks this test (docs/bosh.md says how to add the job).
  Dir.glob(File.join(ROOT, 'brokers', '*', 'main.c')).map { |m| File.basename(File.dirname(m)) }.sort.each do |mw|
    puts "note #{mw}: no bosh-jobs/jobs/#{mw}-broker yet (see docs/bosh.md)" unless jobs.any? { |j| j.name == "#{mw}-broker" }
  end
  jobs.select { |j| j.name.end_with?('-broker') }.each do |j|
    mw = j.name.delete_suffix('-broker')
    check(File.file?(File.join(ROOT, 'catalog', "#{mw}.json")), "#{j.name}: no catalog/#{mw}.json to ship")
  end
end

# The example manifest in docs/bosh.md must render: its osb-brokers jobs with their
# properties, links resolved the way the director would within that manifest.
def check_docs_manifest(jobs, docs)
  text = docs[/```yaml\n(---\n.*?)```/m, 1]
  return check(false, 'docs/bosh.md: no example manifest (a ```yaml block starting with ---)') unless text
  manifest = YAML.safe_load(text)
  groups = manifest['instance_groups'] || []
  placed = groups.flat_map { |g| (g['jobs'] || []).map { |j| [g, j] } }
  placed.each do |group, j|
    next unless j['release'] == 'osb-brokers'
    job = jobs.find { |x| x.name == j['name'] }
    next check(false, "docs/bosh.md: manifest uses unknown job #{j['name']}") unless job
    links = {}
    job.consumes.each do |c|
      provider = placed.find do |_g, pj|
        pj['name'] == c['name'] || (c['type'] == 'servicebroker' && pj['name'].to_s.end_with?('-broker'))
      end
      next unless provider
      pg, pj = provider
      instances = [{ 'address' => "q-s0.#{pg['name']}.default.#{manifest['name']}.bosh" }]
      pjob = jobs.find { |x| x.name == pj['name'] }
      links[c['name']] = if pjob
                           pjob.link_for(c['name'] == 'servicebroker' ? 'servicebroker' : c['name'], pj['properties'], instances)
                         else
                           BoshRender::Link.new(c['name'], pj['properties'] || {}, instances)
                         end
    end
    begin
      job.render(j['properties'] || {}, links: links)
      puts "ok   docs/bosh.md: #{job.name} in instance group #{group['name']} renders"
    rescue BoshRender::Error => e
      check(false, "docs/bosh.md: example manifest, #{job.name}: #{e.message}")
    end
  end
end

if ARGV[1] == '--tables'
  job_dirs.each do |d|
    job = BoshRender::Job.new(d)
    puts "### `#{job.name}`\n\n#{property_table(job)}\n\n"
  end
  exit 0
end

run_checks
if $failures.empty?
  puts "PASS: #{$checks} checks"
else
  $failures.each { |f| warn "FAIL: #{f}" }
  warn "#{$failures.size} of #{$checks} checks failed"
  exit 1
end
