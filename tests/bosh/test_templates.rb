# Checks the BOSH release in bosh-jobs/: the broker jobs bosh-jobs/scripts/generate-jobs makes
# from brokers/list (one per broker, each with its catalog), the errands, spec structure,
# every template rendered with each case of the job (tests/bosh/cases: generic-broker.yml for
# every broker job, plus cases/<job>.yml), declared properties all used and used ones all
# declared, renders that must fail, the link rule of every broker line on a link made from
# its paths, the list's format checks, and docs/bosh.md's property tables and example manifest.
# Usage: ruby test_templates.rb REPO_ROOT [JOBS_DIR]   (exit 0 when every check passes;
#                                                      JOBS_DIR: jobs generated already)
#        ruby test_templates.rb REPO_ROOT --tables    (print the property tables for docs/bosh.md)
require 'json'
require 'set'
require 'tmpdir'
require 'yaml'
require_relative 'render'

ROOT = File.expand_path(ARGV[0] || File.join(__dir__, '..', '..'))
PACKAGES = File.join(ROOT, 'bosh-jobs', 'packages')
CASES = File.join(__dir__, 'cases')
load File.join(ROOT, 'bosh-jobs', 'scripts', 'generate-jobs')
LIST = File.join(ROOT, 'brokers', 'list')
TABLES_HINT = 'ruby tests/bosh/test_templates.rb . --tables'

# The release's jobs: JOBS_DIR, or the broker jobs generated here into a temporary directory.
def generated_jobs
  dir = Dir.mktmpdir('osb-bosh-jobs')
  at_exit { FileUtils.rm_rf(dir) }
  BrokerJobs.generate(list: LIST, out: dir)
  dir
end
JOBS = ARGV[1] && ARGV[1] != '--tables' ? File.expand_path(ARGV[1]) : generated_jobs

# Placeholder PEM text: rendering does not parse it (the broker tests use real files).
FAKE_TLS = {
  'certificate' => "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
  'private_key' => "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
}.freeze

def job_dirs(jobs_dir)
  Dir.children(jobs_dir).sort.map { |d| File.join(jobs_dir, d) }.select { |d| File.directory?(d) }
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

def render_cases(job)
  cases = BoshRender.cases_for(CASES, job.name)
  %w[minimal full].each { |c| check(cases.key?(c), "#{job.name}: no #{c} case in tests/bosh/cases") }
  used = Set.new
  cases.each do |case_name, c|
    next if case_name == 'errors'

    begin
      props, links = BoshRender.load_case(JOBS, CASES, job.name, case_name)
      with_tls = case_name == 'full' && job.properties.key?('broker.tls.certificate')
      BoshRender.store(props, 'broker.tls', FAKE_TLS.dup) if with_tls
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
    begin
      links = BoshRender.resolve_links(JOBS, CASES, c['links'])
      job.render(c['properties'] || {}, links: links)
      check(false, "#{job.name}: error case #{err_name} rendered, expected /#{c['message']}/")
    rescue BoshRender::Error => e
      if check(e.message =~ Regexp.new(c['message']),
               "#{job.name}: error case #{err_name}: got '#{e.message}', expected /#{c['message']}/")
        puts "ok   #{job.name}: #{err_name} is refused (#{e.message})"
      end
    end
  end
end

# A link properties tree where each path of `paths` ({driver key => one path}) holds
# "<key>-from-link", with a decoy item before each list item a path picks.
def link_tree(paths, driver)
  tree = {}
  paths.each do |key, path|
    node = tree
    steps = path.split(/\.(?![^\[]*\])/)
    steps.each_with_index do |step, i|
      name, field, want = step.match(/\A([^\[\]]+)(?:\[([^=\]]+)=([^\]]*)\])?\z/).captures
      last = i == steps.size - 1
      if field
        want = driver[want[1..]] if want.start_with?('$')
        list = (node[name] ||= [{ field => "not-#{want}", 'password' => 'decoy', 'port' => 1 }])
        item = list.find { |x| x[field] == want } || (list << { field => want }).last
        last ? raise("#{path}: a path cannot end in a list item") : node = item
      elsif last
        node[name] = "#{key}-from-link"
      else
        node = (node[name] ||= {})
      end
    end
  end
  tree
end

# Each broker line's link rule (link-rule.rb) on links made from its own paths: every
# alternative of a|b on its own, host from the first instance, the `driver` property winning.
def check_link_rules(jobs)
  BrokerJobs.read_list(LIST).each do |b|
    next unless b.link_type && !File.file?(BrokerJobs.link_snippet(b))

    job = jobs.find { |j| j.name == b.job } or next
    alternatives = b.link_paths.transform_values { |p| p.split('|') }
    (0...(alternatives.values.map(&:size).max || 1)).each do |i|
      paths = alternatives.transform_values { |alts| alts[[i, alts.size - 1].min] }
      # admin_user comes from the link, or the property sets it (a path may pick by it).
      driver = paths.key?('admin_user') ? {} : { 'admin_user' => 'osb_admin' }
      want = { 'host' => '10.0.16.77' }.merge(driver).merge(paths.keys.to_h { |k| [k, "#{k}-from-link"] })
      link = BoshRender::Link.new(b.link_type, link_tree(paths, want),
                                  [{ 'address' => '10.0.16.77' }, { 'address' => '10.0.16.78' }])
      props = { 'broker' => { 'accounts' => [{ 'username' => 'broker', 'password' => 'link-rule-password' }] } }
      where = "#{b.job}: link rule #{paths.values.join(' ')}"
      rendered_driver = lambda do |property|
        files, = job.render(props.merge('driver' => property), links: { b.link_type => link })
        JSON.parse(files['config/config.json'])['driver']
      end
      begin
        got = rendered_driver.call(driver)
        check(got == want, "#{where}: driver #{got.inspect}, expected #{want.inspect}") &&
          puts("ok   #{where}: fills #{want.keys.join(', ')}")
        got = rendered_driver.call(driver.merge('host' => '10.9.9.9', 'port' => 1234))
        check(got['host'] == '10.9.9.9' && got['port'] == 1234,
              "#{where}: the driver property does not win: #{got.inspect}")
      rescue BoshRender::Error, JSON::ParserError => e
        check(false, "#{where}: #{e.message}")
      end
    end
  end
end

# The list's format is checked where it is read: bad lines stop generate-jobs with their line.
def check_list_errors
  bad = {
    'pg libs=libpq build=x server=y title=T' => nil,
    'Bad libs=- build=- server=- title=T' => "broker's name",
    'x libs=- build=- title=T' => 'has no server=',
    'x libs=- build=- server=- colour=blue title=T' => 'unknown field colour=',
    'x libs=- build=- server=- link_port=port title=T' => 'link_port= needs link=',
    'x libs=- build=- server=- link=x link_port=a..b title=T' => 'is not a path step',
    'x libs=- build=- server=- link=x link_port=a[b] title=T' => 'is not a path step',
    'x libs=- build=- server=-' => 'has no title=',
  }
  Dir.mktmpdir do |dir|
    bad.each do |line, message|
      file = File.join(dir, 'list')
      File.write(file, "# a comment\n\n#{line}\n")
      begin
        BrokerJobs.read_list(file)
        check(message.nil?, "brokers/list: '#{line}' was accepted, expected /#{message}/")
      rescue BrokerJobs::Error => e
        check(message && e.message.include?(message) && e.message.include?("#{file}:3"),
              "brokers/list: '#{line}': got '#{e.message}', expected /#{message}/ at line 3")
      end
    end
  end
  puts "ok   brokers/list: #{bad.size} lines parsed or refused as expected"
end

# The generic broker job's table, for a broker called <name>.
def generic_table
  Dir.mktmpdir do |dir|
    broker = BrokerJobs::Broker.new(name: '<name>', fields: {}, title: '<title>')
    property_table(BoshRender::Job.new(BrokerJobs.write_job(broker, dir)))
  end
end

def run_checks
  jobs = job_dirs(JOBS).map { |d| BoshRender::Job.new(d) }
  brokers = BrokerJobs.read_list(LIST)
  brokers.each do |b|
    check(jobs.any? { |j| j.name == b.job }, "#{b.name} (brokers/list): no generated job #{b.job}")
    check(File.file?(File.join(ROOT, 'catalog', "#{b.name}.json")),
          "#{b.name} (brokers/list): no catalog/#{b.name}.json to ship")
  end
  jobs.select { |j| j.name.end_with?('-broker') }.each do |j|
    check(brokers.any? { |b| b.job == j.name }, "#{j.name}: a broker job that brokers/list does not name")
  end
  %w[broker-registrar broker-deregistrar].each { |e| check(jobs.any? { |j| j.name == e }, "no #{e} errand") }
  docs_path = File.join(ROOT, 'docs', 'bosh.md')
  docs = File.file?(docs_path) ? File.read(docs_path) : ''
  check(!docs.empty?, 'docs/bosh.md is missing')

  jobs.each do |job|
    check_spec(job)
    render_cases(job)
    next if job.name.end_with?('-broker')

    check(docs.include?(property_table(job)),
          "#{job.name}: docs/bosh.md does not hold its current property table (#{TABLES_HINT})")
  end
  check(docs.include?(generic_table),
        "docs/bosh.md does not hold the broker jobs' current property table (#{TABLES_HINT})")
  check_link_rules(jobs)
  check_list_errors
  check_docs_manifest(jobs, docs)
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

    begin
      files, = job.render(j['properties'] || {}, links: docs_links(manifest, placed, jobs, job, j))
      if job.name.end_with?('-broker')
        driver = JSON.parse(files['config/config.json'])['driver']
        check(!driver['admin_password'].to_s.empty?, "docs/bosh.md: #{job.name} gets no admin_password (property or link)")
      end
      puts "ok   docs/bosh.md: #{job.name} in instance group #{group['name']} renders"
    rescue BoshRender::Error => e
      check(false, "docs/bosh.md: example manifest, #{job.name}: #{e.message}")
    end
  end
end

# The links a job of the example manifest gets, as the director would wire them: from the job
# named in `consumes: {<link>: {from: <job>}}`, a job named as the link, or for servicebroker
# a broker job; a job of another release provides its properties as they are.
def docs_links(manifest, placed, jobs, job, placed_job)
  job.consumes.each_with_object({}) do |c, links|
    from = ((placed_job['consumes'] || {})[c['name']] || {})['from']
    provider = placed.find do |_g, pj|
      pj['name'] == (from || c['name']) || (c['type'] == 'servicebroker' && pj['name'].to_s.end_with?('-broker'))
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
end

if ARGV[1] == '--tables'
  job_dirs(JOBS).each do |d|
    job = BoshRender::Job.new(d)
    puts "### `#{job.name}`\n\n#{property_table(job)}\n\n" unless job.name.end_with?('-broker')
  end
  puts "### `<name>-broker` (every broker of brokers/list)\n\n#{generic_table}\n\n"
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
